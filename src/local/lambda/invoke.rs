//! Invoking a function: on a warm instance, else a new one, up to the
//! function's concurrency.

use super::process::max_memory_mb;
use super::{FunctionConfig, Instance, InvokeError, LambdaHost, Outcome};
use crate::local::tokens::uuid;
use serde_json::Value;
use tokio::sync::oneshot;

impl LambdaHost {
    /// Invokes the function with one event, as Lambda does: on an idle warm
    /// instance, else on a new one (a cold start, its init time reported)
    /// while fewer than `cfg.concurrency` run, else `Throttled`.
    pub async fn invoke(&self, cfg: &FunctionConfig, event: Value) -> Result<Value, InvokeError> {
        use std::sync::atomic::Ordering;
        let taken = {
            let mut idle = self.idle.lock().await;
            // A redeploy (new code or configuration) retires the old ones;
            // one whose bootstrap exited meanwhile is gone.
            idle.retain(|i| &i.config == cfg && i.running());
            let warm = idle.pop();
            if warm.is_none() && idle.len() + self.busy.load(Ordering::SeqCst) >= cfg.concurrency {
                return Err(InvokeError::Throttled);
            }
            self.busy.fetch_add(1, Ordering::SeqCst);
            warm
        };
        let inst = match taken {
            Some(i) => Ok(i),
            None => self.start(cfg).await,
        };
        let mut inst = match inst {
            Ok(i) => i,
            Err(e) => {
                self.busy.fetch_sub(1, Ordering::SeqCst);
                return Err(e);
            }
        };
        let (outcome, keep) = self.run_on(&mut inst, cfg, event).await;
        self.busy.fetch_sub(1, Ordering::SeqCst);
        if keep {
            self.idle.lock().await.push(inst);
        }
        outcome
    }

    /// One invocation on one instance; says whether the instance lives on.
    async fn run_on(
        &self,
        inst: &mut Instance,
        cfg: &FunctionConfig,
        event: Value,
    ) -> (Result<Value, InvokeError>, bool) {
        let id = uuid();
        let started = std::time::Instant::now();
        *inst.api.current.lock().unwrap() = id.clone();
        self.log(
            &inst.stream,
            &id,
            &format!("START RequestId: {id} Version: $LATEST"),
        );
        let (done_tx, done_rx) = oneshot::channel();
        inst.api.pending.lock().unwrap().insert(id.clone(), done_tx);
        let deadline = (std::time::SystemTime::now() + cfg.timeout)
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        if inst.tx.send((id.clone(), event, deadline)).await.is_err() {
            return (
                Err(InvokeError::Failed("the runtime API stopped".into())),
                false,
            );
        }
        let outcome = tokio::select! {
            r = done_rx => match r {
                Ok(Outcome::Ok(v)) => Ok(v),
                Ok(Outcome::Err(e)) => Err(InvokeError::Failed(e)),
                Err(_) => Err(InvokeError::Failed("the invocation was dropped".into())),
            },
            status = inst.ended() => Err(InvokeError::Failed(format!("bootstrap exited ({status})"))),
            _ = tokio::time::sleep(cfg.timeout) => Err(InvokeError::Timeout),
        };
        let took = started.elapsed().as_secs_f64() * 1000.0;
        if let Err(InvokeError::Timeout) = &outcome {
            self.log(
                &inst.stream,
                &id,
                &format!(
                    "{id} Task timed out after {:.2} seconds",
                    cfg.timeout.as_secs_f64()
                ),
            );
        }
        self.log(&inst.stream, &id, &format!("END RequestId: {id}"));
        let init = inst
            .init
            .take()
            .map(|d| format!("\tInit Duration: {:.2} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_default();
        self.log(
            &inst.stream,
            &id,
            &format!(
                "REPORT RequestId: {id}\tDuration: {took:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB{init}",
                took.ceil() as u64,
                cfg.memory_mb,
                max_memory_mb(inst.running().then_some(inst.group.pid as u32))
            ),
        );
        // A crash or a timeout ends the instance; a handled error does not.
        let keep = match &outcome {
            Err(InvokeError::Timeout) => false,
            Err(InvokeError::Failed(m)) if m.starts_with("init error") => false,
            Err(InvokeError::Failed(_)) => inst.running(),
            _ => true,
        };
        (outcome, keep)
    }
}
