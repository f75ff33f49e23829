//! The HTTP API's data plane: routes, the JWT authorizer, the Lambda proxy
//! integration (payload 2.0), all read from the control plane per request,
//! so that a wrong deployment fails here as it would on AWS.

use super::lambda::InvokeError;
use super::tokens::{authorize, stringify_claims, uuid, Denied};
use super::Plane;
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

fn message(status: StatusCode, m: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"message": m}).to_string(),
    )
        .into_response()
}

/// Picks the route as API Gateway does: the exact `METHOD /path`, then
/// `ANY /path`, then `$default`.
pub fn match_route<'a>(keys: &'a [String], method: &str, path: &str) -> Option<&'a str> {
    let exact = format!("{method} {path}");
    let any = format!("ANY {path}");
    keys.iter()
        .find(|k| **k == exact)
        .or_else(|| keys.iter().find(|k| **k == any))
        .or_else(|| keys.iter().find(|k| *k == "$default"))
        .map(String::as_str)
}

/// `dd/Mon/yyyy:HH:MM:SS +0000`, as in `requestContext.time`.
pub fn clf_time(epoch: i64) -> String {
    let days = epoch.div_euclid(86400);
    let secs = epoch.rem_euclid(86400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        d,
        MON[(m - 1) as usize],
        y,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

async fn get_json(p: &Plane, url: &str) -> Option<Value> {
    p.http.get(url).send().await.ok()?.json().await.ok()
}

async fn issuer_jwks(p: &Plane, issuer: &str) -> Option<Value> {
    if let Some(j) = p.jwks_cache.lock().unwrap().get(issuer) {
        return Some(j.clone());
    }
    let conf = get_json(p, &format!("{issuer}/.well-known/openid-configuration")).await?;
    let jwks = get_json(p, conf["jwks_uri"].as_str()?).await?;
    p.jwks_cache
        .lock()
        .unwrap()
        .insert(issuer.to_string(), jwks.clone());
    Some(jwks)
}

/// One API as `deployer dev` serves it: each API of a program has its own
/// listener (its own base URL), as each has its own endpoint on AWS.
#[derive(Clone)]
pub struct Served {
    pub plane: Arc<Plane>,
    /// The API's ID in the control plane.
    pub api_id: String,
    /// The listener's base URL (`http://127.0.0.1:PORT`).
    pub base: String,
}

pub async fn handle(
    State(s): State<Served>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let origin = req
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let (r, cors) = serve(&s, peer, req).await;
    let mut r = r.unwrap_or_else(|e| e);
    // API Gateway adds the API's CORS headers to every answer to a
    // request with an `Origin` (the integration's own are ignored).
    if let (Some(c), Some(o)) = (cors, origin) {
        cors_headers(&c, &o, r.headers_mut());
    }
    r
}

/// Whether an API's `allowOrigins` admits `origin`: exactly, `*`, or a
/// scheme wildcard (`https://*`).
fn origin_allowed(c: &aws_sdk_apigatewayv2::types::Cors, origin: &str) -> bool {
    c.allow_origins().iter().any(|a| {
        a == "*"
            || a.eq_ignore_ascii_case(origin)
            || a.strip_suffix('*')
                .is_some_and(|scheme| scheme.ends_with("://") && origin.starts_with(scheme))
    })
}

/// The CORS headers of an answer to `origin`: none when it is not allowed
/// (API Gateway's own CORS headers replace the integration's).
fn cors_headers(
    c: &aws_sdk_apigatewayv2::types::Cors,
    origin: &str,
    h: &mut axum::http::HeaderMap,
) {
    for k in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-expose-headers",
    ] {
        h.remove(k);
    }
    if !origin_allowed(c, origin) {
        return;
    }
    let wildcard = c.allow_origins().iter().any(|a| a == "*");
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(
        "access-control-allow-origin",
        if wildcard && c.allow_credentials != Some(true) {
            "*".into()
        } else {
            origin.into()
        },
    );
    if c.allow_credentials == Some(true) {
        set("access-control-allow-credentials", "true".into());
    }
    if !c.expose_headers().is_empty() {
        set(
            "access-control-expose-headers",
            c.expose_headers().join(","),
        );
    }
}

/// API Gateway's own answer to a CORS preflight (an `OPTIONS` with `Origin`
/// and `Access-Control-Request-Method`) on an API with CORS, whatever its
/// routes: 204 with the allowed methods, headers and max age; without any
/// CORS header when the origin is not allowed.
fn preflight(c: &aws_sdk_apigatewayv2::types::Cors, origin: &str) -> Response {
    // The origin's own headers are added as to every answer (`handle`).
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    if !origin_allowed(c, origin) {
        return r;
    }
    let h = r.headers_mut();
    let mut set = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    if !c.allow_methods().is_empty() {
        set("access-control-allow-methods", c.allow_methods().join(","));
    }
    if !c.allow_headers().is_empty() {
        let names: Vec<String> = c
            .allow_headers()
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        set("access-control-allow-headers", names.join(","));
    }
    if let Some(age) = c.max_age.filter(|a| *a > 0) {
        set("access-control-max-age", age.to_string());
    }
    r
}

/// The stage a request path reaches, as API Gateway picks it: a named
/// stage by its path prefix (`/v1/...`), else `$default` at the root; and
/// the path its routes match (without the stage's prefix).
fn pick_stage<'a>(
    stages: &'a [aws_sdk_apigatewayv2::types::Stage],
    path: &str,
) -> Option<(&'a aws_sdk_apigatewayv2::types::Stage, String)> {
    let name = |s: &aws_sdk_apigatewayv2::types::Stage| s.stage_name.clone().unwrap_or_default();
    for s in stages.iter().filter(|s| name(s) != "$default") {
        let prefix = format!("/{}", name(s));
        if let Some(rest) = path.strip_prefix(&prefix) {
            if rest.is_empty() || rest.starts_with('/') {
                let rest = if rest.is_empty() { "/" } else { rest };
                return Some((s, rest.to_string()));
            }
        }
    }
    stages
        .iter()
        .find(|s| name(s) == "$default")
        .map(|s| (s, path.to_string()))
}

/// Why a Lambda authorizer let a request not through.
enum Refused {
    /// No identity source in the request (401; the function is not invoked).
    Unauthorized,
    /// The function said no (403).
    Forbidden,
    /// The function could not be run or failed (500, the reason logged).
    Failed(String),
}

/// A Lambda (`REQUEST`) authorizer's decision, as API Gateway makes it: no
/// identity source in the request is a 401 without invoking it; its answer
/// (simple: `isAuthorized`; else an IAM policy with an `Allow` statement and
/// no `Deny`) lets the request through with its `context` (the
/// integration's `requestContext.authorizer.lambda`), else a 403. A failed
/// invocation is a 500. Answers are not cached locally
/// (`result_ttl_seconds` is stored, not applied).
async fn lambda_authorize(
    p: &Plane,
    a: &aws_sdk_apigatewayv2::operation::get_authorizer::GetAuthorizerOutput,
    request: &Value,
    route_arn: &str,
) -> Result<Value, Refused> {
    // `$request.header.x`, `$request.querystring.x`, `$context.x`, `$stageVariables.x`.
    let mut identity = vec![];
    for source in a.identity_source.clone().unwrap_or_default() {
        let value = if let Some(h) = source.strip_prefix("$request.header.") {
            request["headers"][h.to_ascii_lowercase()]
                .as_str()
                .map(String::from)
        } else if let Some(q) = source.strip_prefix("$request.querystring.") {
            request["queryStringParameters"][q]
                .as_str()
                .map(String::from)
        } else if let Some(v) = source.strip_prefix("$stageVariables.") {
            request["stageVariables"][v].as_str().map(String::from)
        } else if let Some(c) = source.strip_prefix("$context.") {
            request["requestContext"][c].as_str().map(String::from)
        } else {
            None
        };
        match value.filter(|v| !v.is_empty()) {
            Some(v) => identity.push(v),
            None => return Err(Refused::Unauthorized),
        }
    }
    let uri = a.authorizer_uri.clone().unwrap_or_default();
    // arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations
    let function = uri
        .split("/functions/")
        .nth(1)
        .and_then(|f| f.strip_suffix("/invocations"))
        .unwrap_or_default()
        .to_string();
    let cfg = p.function_config(&function).await.map_err(|e| {
        Refused::Failed(format!(
            "authorizer {}: {e}",
            a.name.clone().unwrap_or_default()
        ))
    })?;
    let v1 = a.authorizer_payload_format_version.as_deref() == Some("1.0");
    let mut event = request.clone();
    if let Value::Object(m) = &mut event {
        m.remove("body");
        m.remove("isBase64Encoded");
        m.insert("type".into(), json!("REQUEST"));
        m.insert("routeArn".into(), json!(route_arn));
        m.insert("identitySource".into(), json!(identity));
        if v1 {
            m.insert("methodArn".into(), json!(route_arn));
        }
    }
    let out = p
        .lambda
        .invoke(&cfg, event)
        .await
        .map_err(|e| Refused::Failed(format!("authorizer {}: {e:?}", cfg.name)))?;
    let allowed = if a.enable_simple_responses == Some(true) {
        out["isAuthorized"] == json!(true)
    } else {
        let statements = match &out["policyDocument"]["Statement"] {
            Value::Array(a) => a.clone(),
            s @ Value::Object(_) => vec![s.clone()],
            _ => vec![],
        };
        let allows = |s: &Value| s["Effect"].as_str() == Some("Allow");
        let denies = statements
            .iter()
            .any(|s| s["Effect"].as_str() == Some("Deny"));
        statements.iter().any(allows) && !denies
    };
    if !allowed {
        return Err(Refused::Forbidden);
    }
    Ok(json!({"lambda": out.get("context").cloned().unwrap_or(json!({}))}))
}

/// A route's authorizer as the control plane has it (read within `READ_TTL`).
async fn get_authorizer(
    p: &Plane,
    api_id: &str,
    id: &str,
) -> Result<Arc<aws_sdk_apigatewayv2::operation::get_authorizer::GetAuthorizerOutput>, String> {
    p.reads
        .get(
            format!("GetAuthorizer {api_id} {id}"),
            p.aws
                .apigw
                .get_authorizer()
                .api_id(api_id)
                .authorizer_id(id)
                .send(),
        )
        .await
        .map_err(|e| format!("GetAuthorizer: {e}"))
}

/// What an answer is made of: the answer (or the error answered), and the
/// API's CORS configuration, once read.
type Answer = (
    Result<Response, Response>,
    Option<aws_sdk_apigatewayv2::types::Cors>,
);

fn internal(e: String) -> Response {
    eprintln!("deployer dev: {e}");
    message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

async fn serve(s: &Served, peer: SocketAddr, req: Request) -> Answer {
    let (p, api_id) = (&*s.plane, s.api_id.as_str());
    // The deployment, as the control plane has it (read within READ_TTL).
    let api = p
        .reads
        .get(
            format!("GetApi {api_id}"),
            p.aws.apigw.get_api().api_id(api_id).send(),
        )
        .await;
    let api = match api {
        Ok(a) => a,
        Err(e) => return (Err(internal(format!("GetApi: {e}"))), None),
    };
    let cors = api.cors_configuration.clone();
    let preflight_from = {
        let h = |k: &str| req.headers().get(k).and_then(|v| v.to_str().ok());
        let asks = h("access-control-request-method").is_some();
        let options = req.method() == axum::http::Method::OPTIONS;
        h("origin").filter(|_| asks && options).map(String::from)
    };
    if let (Some(c), Some(origin)) = (&cors, preflight_from) {
        return (Ok(preflight(c, &origin)), cors.clone());
    }
    (serve_route(p, api_id, &api, s, peer, req).await, cors)
}

/// A request through its route: the stage, the route, its authorizer, the
/// integration's function.
async fn serve_route(
    p: &Plane,
    api_id: &str,
    api: &aws_sdk_apigatewayv2::operation::get_api::GetApiOutput,
    s: &Served,
    peer: SocketAddr,
    req: Request,
) -> Result<Response, Response> {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let body = to_bytes(body, 6 * 1024 * 1024)
        .await
        .map_err(|_| message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"))?;
    let routes = p
        .reads
        .get(
            format!("GetRoutes {api_id}"),
            p.aws.apigw.get_routes().api_id(api_id).send(),
        )
        .await
        .map_err(|e| internal(format!("GetRoutes: {e}")))?;
    let routes = routes.items.as_deref().unwrap_or_default();
    let stages = p
        .reads
        .get(
            format!("GetStages {api_id}"),
            p.aws.apigw.get_stages().api_id(api_id).send(),
        )
        .await
        .map_err(|e| internal(format!("GetStages: {e}")))?;
    let Some((stage, route_path)) = pick_stage(stages.items.as_deref().unwrap_or_default(), &path)
    else {
        return Err(message(StatusCode::NOT_FOUND, "Not Found"));
    };
    let keys: Vec<String> = routes.iter().filter_map(|r| r.route_key.clone()).collect();
    let Some(route_key) = match_route(&keys, &method, &route_path) else {
        return Err(message(StatusCode::NOT_FOUND, "Not Found"));
    };
    let route = routes
        .iter()
        .find(|r| r.route_key.as_deref() == Some(route_key))
        .expect("matched route");

    // Lower-cased headers, duplicates joined by commas; cookies apart.
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies: Vec<String> = vec![];
    for (k, v) in parts.headers.iter() {
        let v = String::from_utf8_lossy(v.as_bytes()).to_string();
        if k.as_str() == "cookie" {
            cookies.extend(
                v.split(';')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        headers
            .entry(k.as_str().to_ascii_lowercase())
            .and_modify(|e| e.push_str(&format!(",{v}")))
            .or_insert(v);
    }

    // The JWT authorizer.
    let mut authorizer = Value::Null;
    if route.authorization_type.as_ref().map(|a| a.as_str()) == Some("JWT") {
        let id = route.authorizer_id.clone().unwrap_or_default();
        let a = get_authorizer(p, api_id, &id).await.map_err(internal)?;
        let jwt = a
            .jwt_configuration
            .clone()
            .unwrap_or_else(|| aws_sdk_apigatewayv2::types::JwtConfiguration::builder().build());
        let issuer = jwt.issuer.clone().unwrap_or_default();
        let audience = jwt.audience.clone().unwrap_or_default();
        let source = a
            .identity_source
            .clone()
            .unwrap_or_default()
            .first()
            .cloned()
            .unwrap_or_default();
        let header_name = source
            .strip_prefix("$request.header.")
            .unwrap_or("authorization")
            .to_ascii_lowercase();
        let identity = headers.get(&header_name).cloned();
        let jwks = issuer_jwks(p, &issuer).await.unwrap_or(json!({"keys": []}));
        let scopes = route.authorization_scopes.clone().unwrap_or_default();
        match authorize(identity.as_deref(), &jwks, &issuer, &audience, &scopes) {
            Ok(claims) => {
                let token_scopes: Value = if scopes.is_empty() {
                    Value::Null
                } else {
                    json!(claims
                        .get("scope")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .split_whitespace()
                        .collect::<Vec<_>>())
                };
                authorizer =
                    json!({"jwt": {"claims": stringify_claims(&claims), "scopes": token_scopes}});
            }
            Err(Denied::Unauthorized(_)) => {
                return Err(message(StatusCode::UNAUTHORIZED, "Unauthorized"))
            }
            Err(Denied::Forbidden(_)) => return Err(message(StatusCode::FORBIDDEN, "Forbidden")),
        }
    }

    // The integration and its function.
    let target = route.target.clone().unwrap_or_default();
    let integration_id = target.strip_prefix("integrations/").unwrap_or_default();
    let integration = p
        .reads
        .get(
            format!("GetIntegration {api_id} {integration_id}"),
            p.aws
                .apigw
                .get_integration()
                .api_id(api_id)
                .integration_id(integration_id)
                .send(),
        )
        .await
        .map_err(|e| internal(format!("route {route_key} has no integration: {e}")))?;
    if integration.integration_type.as_ref().map(|t| t.as_str()) != Some("AWS_PROXY")
        || integration.payload_format_version.as_deref() != Some("2.0")
    {
        return Err(internal(
            "the integration is not a Lambda proxy with payload format 2.0".into(),
        ));
    }
    let function_arn = integration.integration_uri.clone().unwrap_or_default();
    let cfg = p.function_config(&function_arn).await.map_err(internal)?;

    // The payload 2.0 event.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let host = headers
        .get("host")
        .cloned()
        .unwrap_or_else(|| s.base.trim_start_matches("http://").to_string());
    let mut qsp: Map<String, Value> = Map::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let e = qsp.entry(k.to_string()).or_insert(json!(""));
        let cur = e.as_str().unwrap_or_default().to_string();
        *e = json!(if cur.is_empty() {
            v.to_string()
        } else {
            format!("{cur},{v}")
        });
    }
    let (body_v, b64) = match std::str::from_utf8(&body) {
        Ok(s) => (json!(s), false),
        Err(_) => (json!(STANDARD.encode(&body)), true),
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": p.account,
            "apiId": api.api_id.clone().unwrap_or_default(),
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or_default(),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": peer.ip().to_string(),
                     "userAgent": headers.get("user-agent").cloned().unwrap_or_default()},
            "requestId": uuid(),
            "routeKey": route_key,
            "stage": stage.stage_name.clone().unwrap_or_default(),
            "time": clf_time(now_ms / 1000),
            "timeEpoch": now_ms,
        },
        "isBase64Encoded": b64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if let Some(v) = stage.stage_variables.as_ref().filter(|v| !v.is_empty()) {
        event["stageVariables"] = json!(v);
    }
    if !qsp.is_empty() {
        event["queryStringParameters"] = Value::Object(qsp);
    }
    if !body.is_empty() {
        event["body"] = body_v;
    }
    // A Lambda (REQUEST) authorizer: its function decides from the request.
    if route.authorization_type.as_ref().map(|a| a.as_str()) == Some("CUSTOM") {
        let id = route.authorizer_id.clone().unwrap_or_default();
        let a = get_authorizer(p, api_id, &id).await.map_err(internal)?;
        let stage_name = stage.stage_name.clone().unwrap_or_default();
        let route_arn = format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
            p.region,
            p.account,
            api.api_id.clone().unwrap_or_default(),
            stage_name,
            method,
            route_path
        );
        authorizer = lambda_authorize(p, &a, &event, &route_arn)
            .await
            .map_err(|r| match r {
                Refused::Unauthorized => message(StatusCode::UNAUTHORIZED, "Unauthorized"),
                Refused::Forbidden => message(StatusCode::FORBIDDEN, "Forbidden"),
                Refused::Failed(why) => internal(why),
            })?;
    }
    if !authorizer.is_null() {
        event["requestContext"]["authorizer"] = authorizer;
    }

    let out = match p.lambda.invoke(&cfg, event).await {
        Ok(v) => v,
        // A timeout, or every instance busy (Lambda's 429): API Gateway
        // answers 503.
        Err(InvokeError::Timeout | InvokeError::Throttled) => {
            return Err(message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
            ))
        }
        Err(InvokeError::Failed(e)) => {
            eprintln!("deployer dev: {}: {e}", cfg.name);
            return Err(message(StatusCode::BAD_GATEWAY, "Internal Server Error"));
        }
        Err(InvokeError::Config(e)) => return Err(internal(e)),
    };
    Ok(map_response(out))
}

/// Maps a payload 2.0 response back to HTTP: status, headers, `cookies` as
/// `Set-Cookie`, base64 bodies. Anything without `statusCode` is a 200 JSON.
pub fn map_response(out: Value) -> Response {
    if out.get("statusCode").is_none() {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            out.to_string(),
        )
            .into_response();
    }
    let status = StatusCode::from_u16(out["statusCode"].as_u64().unwrap_or(500) as u16)
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let body = match out.get("body") {
        Some(Value::String(s)) if out["isBase64Encoded"] == true => {
            STANDARD.decode(s).unwrap_or_default()
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => vec![],
        Some(v) => v.to_string().into_bytes(),
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    if let Some(h) = out["headers"].as_object() {
        for (k, v) in h {
            if let (Ok(n), Some(Ok(v))) = (
                HeaderName::try_from(k.as_str()),
                v.as_str().map(HeaderValue::from_str),
            ) {
                r.headers_mut().insert(n, v);
            }
        }
    }
    if let Some(c) = out["cookies"].as_array() {
        for v in c.iter().filter_map(|c| c.as_str()) {
            if let Ok(v) = HeaderValue::from_str(v) {
                r.headers_mut().append("set-cookie", v);
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_allowed_as_api_gateway_allows_them() {
        let cors = |o: &[&str]| {
            aws_sdk_apigatewayv2::types::Cors::builder()
                .set_allow_origins(Some(o.iter().map(|s| s.to_string()).collect()))
                .build()
        };
        let exact = cors(&["https://app.example"]);
        assert!(origin_allowed(&exact, "https://app.example"));
        assert!(!origin_allowed(&exact, "https://app.example.evil"));
        assert!(!origin_allowed(&exact, "http://app.example"));
        let https = cors(&["https://*"]);
        assert!(origin_allowed(&https, "https://any.example"));
        assert!(!origin_allowed(&https, "http://any.example"));
        assert!(origin_allowed(&cors(&["*"]), "http://localhost:3000"));
        assert!(!origin_allowed(&cors(&[]), "https://app.example"));
    }

    #[test]
    fn routes_match_like_api_gateway() {
        let keys: Vec<String> = ["GET /jwt-cognito-protected", "$default", "ANY /any"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            match_route(&keys, "GET", "/jwt-cognito-protected"),
            Some("GET /jwt-cognito-protected")
        );
        assert_eq!(
            match_route(&keys, "POST", "/jwt-cognito-protected"),
            Some("$default")
        );
        assert_eq!(match_route(&keys, "DELETE", "/any"), Some("ANY /any"));
        assert_eq!(match_route(&keys, "GET", "/"), Some("$default"));
        assert_eq!(match_route(&keys[..1], "GET", "/"), None);
    }

    #[test]
    fn a_named_stage_is_reached_by_its_prefix_and_default_at_the_root() {
        let st = |n: &str| {
            aws_sdk_apigatewayv2::types::Stage::builder()
                .stage_name(n)
                .build()
        };
        let both = [st("$default"), st("v1")];
        let pick = |stages: &[aws_sdk_apigatewayv2::types::Stage], p: &str| {
            pick_stage(stages, p).map(|(s, rest)| (s.stage_name.clone().unwrap(), rest))
        };
        let got = |n: &str, r: &str| Some((n.to_string(), r.to_string()));
        assert_eq!(pick(&both, "/v1/hello"), got("v1", "/hello"));
        assert_eq!(pick(&both, "/v1"), got("v1", "/"));
        assert_eq!(pick(&both, "/v10/hello"), got("$default", "/v10/hello"));
        assert_eq!(pick(&both, "/hello"), got("$default", "/hello"));
        assert_eq!(pick(&both[1..], "/hello"), None);
        assert_eq!(pick(&[], "/hello"), None);
    }

    #[test]
    fn request_time_format() {
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_time(1764000000), "24/Nov/2025:16:00:00 +0000");
    }

    #[tokio::test]
    async fn responses_map_back() {
        let r = map_response(
            json!({"statusCode": 302, "headers": {"location": "https://x"}, "cookies": ["a=1; Path=/", "b=2"], "body": ""}),
        );
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "https://x");
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
        let r = map_response(
            json!({"statusCode": 200, "body": STANDARD.encode(b"\x00\x01"), "isBase64Encoded": true}),
        );
        assert_eq!(
            to_bytes(r.into_body(), 100).await.unwrap().as_ref(),
            b"\x00\x01"
        );
        let r = map_response(json!({"hello": "world"}));
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
    }
}
