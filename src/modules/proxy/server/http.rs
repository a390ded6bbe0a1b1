//! An HTTP request through the proxy, in phases: authenticate → target →
//! admit → [`policy::decide`] → respond (refusal, block page) or forward.

use super::*;

pub use super::super::block_page::block_page;

/// The Proxy-Authorization credentials, if well formed.
pub(super) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let v = headers.get(header::PROXY_AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (l, p) = s.split_once(':')?;
    Some((l.to_string(), p.to_string()))
}

/// Splits "host:port" (with [v6] support) with a default port.
pub(super) fn host_port(authority: &str, default: u16) -> Option<(String, u16)> {
    let (h, p) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match p {
        Some(p) => p.parse().ok()?,
        None => default,
    };
    let host = lists::normalize_host(h)?;
    Some((host, port))
}

/// Headers a proxy must not forward (RFC 9110 §7.6.1), plus those named
/// in Connection.
pub(super) fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .filter(|n| !(keep_upgrade && n == header::UPGRADE))
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in [
        header::PROXY_AUTHORIZATION,
        header::PROXY_AUTHENTICATE,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
    ] {
        headers.remove(n);
    }
    headers.remove("proxy-connection");
    headers.remove("keep-alive");
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::CONNECTION);
        headers.remove(header::UPGRADE);
    }
}

pub(super) fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
}

/// Logs one entry when dropped: when the response body is done (or
/// abandoned), with the bytes counted by then.
pub(super) struct LogOnDrop {
    pub(super) rt: Arc<Runtime>,
    pub(super) entry: Option<Entry>,
    pub(super) up: Arc<AtomicU64>,
    pub(super) down: Arc<AtomicU64>,
    pub(super) status: Arc<AtomicU64>,
}

impl Drop for LogOnDrop {
    fn drop(&mut self) {
        if let Some(mut e) = self.entry.take() {
            e.bytes_up = self.up.load(Ordering::Relaxed);
            e.bytes_down = self.down.load(Ordering::Relaxed);
            let status = self.status.load(Ordering::Relaxed);
            if status != 0 {
                e.status = status as u16;
            }
            self.rt.logger.log(e);
        }
    }
}

pub(super) fn counted(body: Body, counter: Arc<AtomicU64>, guard: Option<Arc<LogOnDrop>>) -> Body {
    body.map_frame(move |f| {
        let _ = &guard;
        if let Some(d) = f.data_ref() {
            counter.fetch_add(d.len() as u64, Ordering::Relaxed);
        }
        f
    })
    .boxed()
}

pub(super) fn user_label(user: &Option<User>) -> String {
    user.as_ref().map(|u| u.login.clone()).unwrap_or_default()
}

/// What is asked of the policy for one request or connection.
pub(super) struct Asked<'a> {
    pub(super) host: &'a str,
    pub(super) port: u16,
    pub(super) path: Option<&'a str>,
    pub(super) method: &'a str,
    pub(super) source: IpAddr,
    pub(super) user: Option<&'a User>,
    pub(super) tunnel: bool,
}

/// The policy's decision with the snapshot of settings, lists and exams
/// of this moment.
pub(super) fn decide(rt: &Runtime, a: &Asked<'_>) -> Decision {
    let current = rt.current.load();
    let index = rt.index.load();
    let exams = rt.exams.load();
    let req = PolicyRequest {
        host: a.host,
        path: a.path,
        method: a.method,
        source: a.source,
        user: a.user,
        port: a.port,
        tunnel: a.tunnel,
    };
    policy::decide(&req, &Clock::now(), &current.policies, &exams, &index)
}

/// How a refusal answers.
pub(super) enum Answer {
    Text(String),
    /// The French block page.
    Page(String),
    /// 407 with the Basic challenge.
    Challenge,
}

/// A request refused before it reached an origin: one status, the
/// decision its log entry records, one answer. Every refusal goes through
/// [`Refusal::respond`] (or [`Refusal::log`] on the TLS path), so none is
/// logged without a decision.
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    /// "error" (the request could not be served), "deny" (the policy
    /// refused) or "auth" (who is asking is unknown).
    pub(super) decision: &'static str,
    pub(super) answer: Answer,
}

impl Refusal {
    pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            decision: "error",
            answer: Answer::Text(message.into()),
        }
    }

    fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::error(StatusCode::BAD_REQUEST, message)
    }

    /// Records the refusal in `entry` and logs it.
    pub(super) fn log(&self, rt: &Runtime, mut entry: Entry) {
        entry.status = self.status.as_u16();
        entry.decision = self.decision.into();
        rt.logger.log(entry);
    }

    /// Logs the refusal and answers it.
    pub(super) fn respond(self, rt: &Runtime, entry: Entry) -> Response<Body> {
        self.log(rt, entry);
        match self.answer {
            Answer::Text(message) => text(self.status, &message),
            Answer::Page(page) => {
                let mut r = Response::new(full(page));
                *r.status_mut() = self.status;
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Answer::Challenge => {
                let mut r = text(
                    StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                    "Identification requise pour utiliser le proxy.",
                );
                r.headers_mut().insert(
                    header::PROXY_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"Proxy Preau\", charset=\"UTF-8\""),
                );
                r
            }
        }
    }
}

/// Phase 1, who: proxy authentication (explicit proxy only). A login
/// that fails is noted in `entry` for the log.
async fn authenticate(
    rt: &Runtime,
    settings: &ProxySettings,
    mode: Mode,
    headers: &HeaderMap,
    entry: &mut Entry,
) -> Result<Option<User>, Refusal> {
    if mode != Mode::Explicit || settings.authentication == AuthMode::Off {
        return Ok(None);
    }
    let mut user = None;
    if let Some((login, password)) = basic_credentials(headers) {
        let dir = rt.directory.clone();
        let l = login.clone();
        match tokio::task::spawn_blocking(move || dir.authenticate(&l, &password)).await {
            Ok(Ok(found)) => user = found,
            // The directory cannot say: not an unknown user (407), a
            // service that is unavailable for now.
            outcome => {
                let why = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => "the verification task failed".to_string(),
                };
                rt.auth_errors.fetch_add(1, Ordering::Relaxed);
                log::error!(login = login.as_str(), error = why.as_str(); "proxy authentication unavailable");
                entry.user = login;
                return Err(Refusal::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Identification impossible pour le moment (annuaire indisponible). Réessayez dans un instant.",
                ));
            }
        }
        if user.is_none() {
            entry.user = login;
        }
    }
    if user.is_none() && (settings.authentication == AuthMode::Required || !entry.user.is_empty()) {
        return Err(Refusal {
            status: StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            decision: "auth",
            answer: Answer::Challenge,
        });
    }
    Ok(user)
}

/// Phase 2, where to: host and port of the request.
fn target(req: &Request<Incoming>, mode: Mode) -> Result<(String, u16), Refusal> {
    let found = if req.method() == Method::CONNECT {
        req.uri().authority().and_then(|a| host_port(a.as_str(), 443))
    } else if req.uri().scheme().is_some() {
        if req.uri().scheme_str() != Some("http") {
            return Err(Refusal::bad_request(
                "Seules les adresses http:// passent en clair par le proxy ; https passe par CONNECT.",
            ));
        }
        req.uri().authority().and_then(|a| host_port(a.as_str(), 80))
    } else if mode == Mode::TransparentHttp {
        req.headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| host_port(h, 80))
    } else {
        None
    };
    found.ok_or_else(|| {
        Refusal::bad_request(
            "Requête invalide : destination absente ou incorrecte. Configurez ce serveur comme proxy HTTP du navigateur.",
        )
    })
}

/// Phase 3, admit: what no policy could allow. A transparent request
/// addressed to the proxy itself would loop.
fn admit(mode: Mode, local: Option<SocketAddr>, host: &str, port: u16) -> Result<(), Refusal> {
    if mode == Mode::TransparentHttp
        && let (Some(local), Ok(ip)) = (local, host.parse::<IpAddr>())
        && ip.to_canonical() == local.ip().to_canonical()
        && port == local.port()
    {
        return Err(Refusal::bad_request("Requête adressée au proxy lui-même."));
    }
    Ok(())
}

/// Phase 4, the policy's refusal: the block page, or one line for a
/// tunnel (a browser shows no page for a refused CONNECT).
fn denied(d: &Decision, host: &str, path: Option<&str>, tunnel: bool, settings: &ProxySettings) -> Refusal {
    let answer = if tunnel {
        Answer::Text(format!(
            "Accès à {host} bloqué : {}. Pour le débloquer, demandez à {}.",
            d.explain(),
            settings.contact
        ))
    } else {
        Answer::Page(block_page(host, path.unwrap_or(""), d, &settings.contact))
    };
    Refusal {
        status: StatusCode::FORBIDDEN,
        decision: "deny",
        answer,
    }
}

pub(super) async fn handle(
    rt: Arc<Runtime>,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    mode: Mode,
    req: Request<Incoming>,
) -> Response<Body> {
    rt.handled.fetch_add(1, Ordering::Relaxed);
    let current = rt.current.load_full();
    let settings = &current.settings;
    let mut entry = Entry {
        source: canonical(peer).to_string(),
        method: req.method().to_string(),
        mode: match mode {
            Mode::Explicit if req.method() == Method::CONNECT => "connect",
            Mode::Explicit => "proxy",
            _ => "http",
        }
        .into(),
        ..Entry::default()
    };
    let user = match authenticate(&rt, settings, mode, req.headers(), &mut entry).await {
        Ok(u) => u,
        Err(r) => return r.respond(&rt, entry),
    };
    entry.user = user_label(&user);
    let (host, port) = match target(&req, mode) {
        Ok(t) => t,
        Err(r) => return r.respond(&rt, entry),
    };
    let is_connect = req.method() == Method::CONNECT;
    entry.host = if port == 80 || port == 443 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    if let Err(r) = admit(mode, local, &host, port) {
        return r.respond(&rt, entry);
    }
    let path = (!is_connect).then(|| {
        req.uri()
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string())
    });
    entry.path = path.clone().unwrap_or_default();
    let d = decide(
        &rt,
        &Asked {
            host: &host,
            port,
            path: path.as_deref(),
            method: req.method().as_str(),
            source: peer.ip(),
            user: user.as_ref(),
            tunnel: is_connect,
        },
    );
    entry.policy = d.policy.clone();
    entry.category = d.category().unwrap_or_default().to_string();
    if !d.allow {
        if d.policy == policy::SETTINGS {
            entry.host = format!("{host}:{port}");
        }
        return denied(&d, &host, path.as_deref(), is_connect, settings).respond(&rt, entry);
    }
    if is_connect {
        entry.decision = "allow".into();
        return connect_tunnel(rt, req, entry, host, port, settings).await;
    }
    forward(rt, req, entry, mode, host, port, path, settings).await
}

/// Phase 5, respond: forwards a plain HTTP request the policy allowed
/// and streams the answer back (upgrades spliced).
#[allow(clippy::too_many_arguments)]
async fn forward(
    rt: Arc<Runtime>,
    mut req: Request<Incoming>,
    mut entry: Entry,
    mode: Mode,
    host: String,
    port: u16,
    path: Option<String>,
    settings: &ProxySettings,
) -> Response<Body> {
    // Forward plain HTTP.
    let upgrade = wants_upgrade(req.headers());
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers, upgrade);
    // Absolute form: the target's authority replaces any Host header
    // (RFC 9112 §3.2.2); transparent requests keep theirs.
    if mode == Mode::Explicit || !parts.headers.contains_key(header::HOST) {
        let h = if port == 80 {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        if let Ok(v) = HeaderValue::from_str(&h) {
            parts.headers.insert(header::HOST, v);
        }
    }
    let uri = format!("http://{}{}", entry.host, path.as_deref().unwrap_or("/"));
    parts.uri = match uri.parse::<Uri>() {
        Ok(u) => u,
        Err(_) => return Refusal::bad_request("Adresse invalide.").respond(&rt, entry),
    };
    entry.decision = "allow".into();
    parts.version = hyper::Version::HTTP_11;
    let up = Arc::new(AtomicU64::new(0));
    let down = Arc::new(AtomicU64::new(0));
    let status = Arc::new(AtomicU64::new(0));
    let guard = Arc::new(LogOnDrop {
        rt: rt.clone(),
        entry: Some(entry),
        up: up.clone(),
        down: down.clone(),
        status: status.clone(),
    });
    let outgoing = Request::from_parts(
        parts,
        counted(body.map_err(BoxError::from).boxed(), up.clone(), None),
    );
    let response = tokio::time::timeout(
        seconds(settings.idle_timeout_seconds),
        rt.client.request(outgoing),
    )
    .await;
    let mut resp = match response {
        Err(_) => {
            status.store(504, Ordering::Relaxed);
            return text(
                StatusCode::GATEWAY_TIMEOUT,
                &format!("Le serveur {host} ne répond pas."),
            );
        }
        Ok(Err(e)) => {
            let cause = Upstream::of(&e);
            let code = if cause == Upstream::Timeout {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            status.store(u64::from(code.as_u16()), Ordering::Relaxed);
            log::debug!(host = host.as_str(), error = format!("{e:?}").as_str(); "origin request failed");
            return text(
                code,
                &format!("Impossible de joindre le serveur {host} : {}.", cause.fr()),
            );
        }
        Ok(Ok(r)) => r,
    };
    status.store(u64::from(resp.status().as_u16()), Ordering::Relaxed);
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_upgrade) = client_upgrade
    {
        let server_upgrade = hyper::upgrade::on(&mut resp);
        let idle = seconds(settings.idle_timeout_seconds);
        let guard = guard.clone();
        tokio::spawn(async move {
            if let (Ok(c), Ok(s)) = (client_upgrade.await, server_upgrade.await) {
                let (a, b) = splice(TokioIo::new(c), TokioIo::new(s), idle).await;
                guard.up.fetch_add(a, Ordering::Relaxed);
                guard.down.fetch_add(b, Ordering::Relaxed);
            }
        });
        let (mut parts, _) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers, true);
        return Response::from_parts(parts, empty());
    }
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers, false);
    Response::from_parts(
        parts,
        counted(body.map_err(BoxError::from).boxed(), down, Some(guard)),
    )
}
