//! The stall guard around deployer's HTTPS client: an attempt that makes
//! no progress for `--stall-timeout` fails (a connector timeout, retried
//! like one), however long the attempt may take in all, so that a stalled
//! endpoint (TCP accepted, nothing answered) fails in seconds while a slow
//! but live upload of a large zip is never cut.
//!
//! Progress is what deployer can see of a request: the connection taking
//! its body (handed over in slices of [`SLICE`] bytes, so that a 50 MB
//! zip is not one piece that the connection holds until all of it is on
//! the wire), then the answer's head, then the answer's body. The
//! SDK's `read_timeout` cannot do this: it times the whole response
//! future, sending the body included (aws-smithy-http-client 1.5
//! `client/timeout.rs`).
//!
//! The clock (one attempt, from the connector's call):
//! - before the body is all sent, no slice taken for `stall` (the
//!   connection's setup counts, its own connect timeout is 10 s);
//! - after, no answer's head within `stall` plus as long as the body took
//!   to send: the bytes the network's buffers still hold drain at the pace
//!   the body went out;
//! - in the answer's body, no bytes for `stall` (an event stream's body,
//!   which may rightly be idle, is not watched).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use bytes::Bytes;
use http_body::Body;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// The largest piece of a request body handed to the connection at once.
pub(crate) const SLICE: usize = 64 * 1024;

/// `inner` with the stall guard: see the module's documentation.
pub(crate) fn guard(inner: SharedHttpClient, stall: Duration) -> SharedHttpClient {
    SharedHttpClient::new(StallGuard { inner, stall })
}

/// Why an attempt was given up: it made no progress for the stall timeout.
#[derive(Debug)]
pub struct Stalled {
    phase: Phase,
    stall: Duration,
    waited: Duration,
}

#[derive(Debug)]
enum Phase {
    /// The endpoint stopped taking the request body.
    Sending { sent: u64, total: Option<u64> },
    /// The request went out; no answer came.
    Answer,
    /// The answer's body stopped.
    AnswerBody,
}

impl std::fmt::Display for Stalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.stall.as_secs_f64();
        match &self.phase {
            Phase::Sending { sent, total } => {
                let total = total.map(|t| format!(" of {t}")).unwrap_or_default();
                write!(
                    f,
                    "timed out: the endpoint took none of the request for {s} s ({sent}{total} bytes of the body sent)"
                )
            }
            Phase::Answer => write!(
                f,
                "timed out: no answer {:.0} s after the request was sent (stall timeout {s} s)",
                self.waited.as_secs_f64()
            ),
            Phase::AnswerBody => write!(f, "timed out: the answer stopped for {s} s"),
        }
    }
}

impl std::error::Error for Stalled {}

/// True when `e` or one of its sources is the stall guard's [`Stalled`].
pub fn is_stall(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut e = Some(e);
    while let Some(x) = e {
        if x.is::<Stalled>() {
            return true;
        }
        e = x.source();
    }
    false
}

#[derive(Debug)]
struct StallGuard {
    inner: SharedHttpClient,
    stall: Duration,
}

impl HttpClient for StallGuard {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(GuardedConnector {
            inner: self.inner.http_connector(settings, components),
            stall: self.stall,
        })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct GuardedConnector {
    inner: SharedHttpConnector,
    stall: Duration,
}

/// What the request body has done so far (shared by the body, which the
/// connection polls, and the attempt's clock).
#[derive(Debug)]
struct Progress {
    /// The last time anything moved (the call's start, a slice taken).
    last: Instant,
    /// When the first slice was taken.
    first: Option<Instant>,
    /// When the last one was: the body is all sent.
    sent: Option<Instant>,
    /// Bytes taken so far.
    bytes: u64,
    /// The body's length, if known.
    total: Option<u64>,
}

impl Progress {
    /// When the attempt is stalled if nothing moves before.
    fn deadline(&self, stall: Duration) -> Instant {
        match self.sent {
            Some(sent) => sent + stall + (sent - self.first.unwrap_or(sent)),
            None => self.last + stall,
        }
    }

    fn stalled(&self, stall: Duration, start: Instant) -> Stalled {
        let now = Instant::now();
        let phase = match self.sent {
            Some(_) => Phase::Answer,
            None if self.bytes > 0 => Phase::Sending {
                sent: self.bytes,
                total: self.total,
            },
            // Nothing of the body was taken: for an empty body (nothing to
            // take) that is waiting for the answer.
            None if self.total == Some(0) => Phase::Answer,
            None => Phase::Sending {
                sent: 0,
                total: self.total,
            },
        };
        let waited = match self.sent {
            Some(sent) => now - sent,
            None => now - start,
        };
        Stalled {
            phase,
            stall,
            waited,
        }
    }
}

impl HttpConnector for GuardedConnector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        let stall = self.stall;
        let connector = self.inner.clone();
        // A paced call (`crate::pace`) first waits for its turn under AWS's
        // quota; its attempt's clocks start after.
        let ticket = request.extension::<crate::pace::Ticket>().cloned();
        HttpConnectorFuture::new(async move {
            // Taken before signing (`pace::PacedIdentity`); here for a
            // call that is not signed.
            if let Some(t) = &ticket {
                t.pass().await;
            }
            let start = Instant::now();
            let limit = ticket.as_ref().map(|t| start + t.limit());
            let body = request.take_body();
            let progress = Arc::new(Mutex::new(Progress {
                last: start,
                first: None,
                sent: None,
                bytes: 0,
                total: body.content_length(),
            }));
            let p = progress.clone();
            *request.body_mut() = body.map_preserve_contents(move |b| {
                SdkBody::from_body_1_x(Tracked {
                    inner: b,
                    rest: Bytes::new(),
                    progress: p.clone(),
                })
            });
            let inner = connector.call(request);
            tokio::pin!(inner);
            loop {
                let stalls = lock(&progress).deadline(stall);
                let deadline = limit.map_or(stalls, |l| l.min(stalls));
                tokio::select! {
                    r = &mut inner => {
                        return r.map(|response| watch_answer(response, stall, limit.map(|l| (l, l - start))));
                    }
                    _ = tokio::time::sleep_until(deadline) => {
                        if let Some(l) = limit.filter(|l| Instant::now() >= *l) {
                            return Err(ConnectorError::timeout(Box::new(AttemptTimedOut(l - start))));
                        }
                        let p = lock(&progress);
                        if Instant::now() >= p.deadline(stall) {
                            if std::env::var_os("DEPLOYER_DEBUG").is_some() {
                                eprintln!("deployer: stall guard: {p:?}");
                            }
                            // Dropping `inner` closes the connection.
                            return Err(ConnectorError::timeout(Box::new(p.stalled(stall, start))));
                        }
                    }
                }
            }
        })
    }
}

/// A paced attempt took longer than its attempt timeout once sent (the
/// SDK's own attempt timeout is off for it: it would count the wait for
/// its turn).
#[derive(Debug)]
pub struct AttemptTimedOut(Duration);

impl std::fmt::Display for AttemptTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "timed out: no whole answer within the attempt timeout of {} s",
            self.0.as_secs_f64()
        )
    }
}

impl std::error::Error for AttemptTimedOut {}

fn lock(p: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// The request body, handed to the connection a slice at a time, each
/// slice a sign of progress.
struct Tracked {
    inner: SdkBody,
    /// What is left of the inner body's last chunk.
    rest: Bytes,
    progress: Arc<Mutex<Progress>>,
}

impl Tracked {
    fn note_taken(&self, n: usize) {
        let now = Instant::now();
        let mut p = lock(&self.progress);
        p.last = now;
        p.first.get_or_insert(now);
        p.bytes += n as u64;
        // The connection stops polling once it has the body's length, so
        // the end is seen here, not only as a `None`.
        let done =
            self.rest.is_empty() && (Body::is_end_stream(&self.inner) || p.total == Some(p.bytes));
        if done {
            p.sent.get_or_insert(now);
        }
    }

    fn note_end(&self) {
        let now = Instant::now();
        let mut p = lock(&self.progress);
        p.last = now;
        p.sent.get_or_insert(now);
    }
}

impl Drop for Tracked {
    /// The connection is done with the body: all of it written, or an
    /// empty one dropped as the request's head is written (the answer's
    /// clock starts then, not counting the connection's setup), or the
    /// attempt over.
    fn drop(&mut self) {
        let mut p = lock(&self.progress);
        if p.sent.is_none() && (p.bytes > 0 || p.total == Some(0)) {
            let now = Instant::now();
            p.last = now;
            p.sent = Some(now);
        }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.rest.is_empty() {
            match std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                None => {
                    this.note_end();
                    return Poll::Ready(None);
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.rest = data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
            }
        }
        let n = this.rest.len().min(SLICE);
        let slice = this.rest.split_to(n);
        this.note_taken(n);
        Poll::Ready(Some(Ok(http_body::Frame::data(slice))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let inner = Body::size_hint(&self.inner);
        let rest = self.rest.len() as u64;
        let mut hint = http_body::SizeHint::new();
        hint.set_lower(inner.lower() + rest);
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + rest);
        }
        hint
    }
}

/// The answer with its body watched for stalls (but an event stream's).
fn watch_answer(
    mut response: HttpResponse,
    stall: Duration,
    limit: Option<(Instant, Duration)>,
) -> HttpResponse {
    let event_stream = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.starts_with("application/vnd.amazon.eventstream"));
    if !event_stream {
        let body = response.take_body();
        *response.body_mut() = body.map_preserve_contents(move |b| {
            SdkBody::from_body_1_x(Watched {
                inner: b,
                stall,
                timer: None,
                limit: limit.map(|(at, of)| (Box::pin(tokio::time::sleep_until(at)), of)),
            })
        });
    }
    response
}

/// The answer's body: fails when no bytes come for `stall` while it is
/// read, or when a paced attempt's limit passes before its end.
struct Watched {
    inner: SdkBody,
    stall: Duration,
    /// Started at the first read (the caller may read the body later).
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The attempt's end (and its length), for a paced call.
    limit: Option<(Pin<Box<tokio::time::Sleep>>, Duration)>,
}

impl Body for Watched {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let stall = this.stall;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        if let Some((at, of)) = this.limit.as_mut() {
            if at.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Some(Err(Box::new(AttemptTimedOut(*of)))));
            }
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                timer.as_mut().reset(Instant::now() + stall);
                Poll::Ready(frame)
            }
            Poll::Pending => match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(Stalled {
                    phase: Phase::AnswerBody,
                    stall,
                    waited: stall,
                })))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        Body::size_hint(&self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(total: u64) -> Arc<Mutex<Progress>> {
        Arc::new(Mutex::new(Progress {
            last: Instant::now(),
            first: None,
            sent: None,
            bytes: 0,
            total: Some(total),
        }))
    }

    /// A body of one 200 000-byte chunk (what the SDK makes of a zip) goes
    /// to the connection in slices of 64 KiB, each a sign of progress, and
    /// its end is seen with the last slice (the connection polls no more
    /// once it has the body's length).
    #[tokio::test]
    async fn a_body_goes_out_in_slices_and_its_end_is_seen() {
        let p = progress(200_000);
        let mut body = Tracked {
            inner: SdkBody::from(vec![1u8; 200_000]),
            rest: Bytes::new(),
            progress: p.clone(),
        };
        let mut sizes = vec![];
        while !body.is_end_stream() {
            assert!(lock(&p).sent.is_none());
            let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
                .await
                .unwrap()
                .unwrap();
            sizes.push(frame.into_data().unwrap().len());
            assert_eq!(
                Body::size_hint(&body).exact(),
                Some(200_000 - sizes.iter().sum::<usize>() as u64)
            );
        }
        assert_eq!(sizes, [SLICE, SLICE, SLICE, 200_000 - 3 * SLICE]);
        let p = lock(&p);
        assert_eq!(p.bytes, 200_000);
        assert!(p.sent.is_some(), "the end is seen");
    }

    /// The clock: `stall` since the last slice while sending; once sent,
    /// `stall` plus as long as the body took to send.
    #[test]
    fn the_answer_is_waited_for_as_long_as_the_body_took_to_send() {
        let s = Duration::from_secs(20);
        let t0 = Instant::now();
        let mut p = Progress {
            last: t0,
            first: None,
            sent: None,
            bytes: 0,
            total: Some(10),
        };
        assert_eq!(p.deadline(s), t0 + s);
        p.first = Some(t0 + Duration::from_secs(1));
        p.last = t0 + Duration::from_secs(31);
        assert_eq!(p.deadline(s), t0 + Duration::from_secs(51));
        p.sent = Some(p.last);
        assert_eq!(
            p.deadline(s),
            t0 + Duration::from_secs(31 + 20 + 30),
            "20 s, and the 30 s the body took"
        );
    }
}
