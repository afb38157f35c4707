//! Proxying an admitted WebSocket upgrade: keygate holds both ends.
//!
//! The upgrade goes to the origin as a `fetch` with `Upgrade: websocket`
//! and the signed identity headers; the client gets the other end of a
//! `WebSocketPair`, and messages are relayed both ways until either side
//! closes. Invariants: only an [`Authorized`] request gets here; the
//! client's `Sec-WebSocket-*` handshake headers are not forwarded (the
//! runtime makes its own handshake) except the offered protocols, without
//! any key; after the product's `max_connection_seconds` keygate closes
//! both ends (1008); a key revoked while a socket is open is not
//! re-checked before then.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use futures_util::StreamExt;
use worker::{
    console_error, js_sys,
    wasm_bindgen::{closure::Closure, JsCast},
    wasm_bindgen_futures::{spawn_local, JsFuture},
    web_sys,
    worker_sys::ext::ResponseExt,
    Delay, WebSocket, WebSocketPair, WebsocketEvent,
};

use crate::config::Config;
use crate::forward::{same_header, ForwardPlan};
use crate::policy::Authorized;
use crate::websocket::{relay_close_code, TIME_LIMIT_CLOSE};
use crate::Error;

/// Opens the origin's socket and answers the client with `101` and its
/// end of a pair relayed to it. `protocols` is the client's offer without
/// any key.
pub(super) async fn proxy(
    config: &Config,
    client_headers: &[(String, String)],
    authorized: &Authorized<'_>,
    plan: &ForwardPlan,
    protocols: Option<&str>,
) -> Result<web_sys::Response, Error> {
    let product = authorized.product();
    let unavailable = || Error::UpstreamUnavailable {
        product: product.name.clone(),
    };
    let headers =
        super::upstream::upstream_headers(config, client_headers, authorized, plan, |n| {
            n.len() > 14
                && n.get(..14)
                    .is_some_and(|p| same_header(p, "sec-websocket-"))
        })
        .map_err(|_| unavailable())?;
    let handshake = || -> Result<(), worker::wasm_bindgen::JsValue> {
        headers.set("Upgrade", "websocket")?;
        if let Some(offer) = protocols {
            headers.set("Sec-WebSocket-Protocol", offer)?;
        }
        Ok(())
    };
    handshake().map_err(|_| unavailable())?;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(&plan.url, &init).map_err(|e| {
        console_error!("cannot build the upstream upgrade: {e:?}");
        unavailable()
    })?;
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response = JsFuture::from(global.fetch_with_request(&request))
        .await
        .map_err(|e| {
            console_error!("origin upgrade failed: {e:?}");
            unavailable()
        })?
        .dyn_into()
        .map_err(|_| unavailable())?;
    let Some(origin) = response.websocket().map(WebSocket::from) else {
        // The origin refused the upgrade: its answer goes back as it is.
        if (100..200).contains(&response.status()) {
            return Err(unavailable());
        }
        return Ok(response);
    };
    let selected = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .ok()
        .flatten();
    let pair = WebSocketPair::new().map_err(|_| unavailable())?;
    relay(
        pair.server,
        origin,
        product.websocket.max_connection_seconds,
    )
    .map_err(|e| {
        console_error!("cannot relay the socket: {e}");
        unavailable()
    })?;
    let answer = worker::Response::from_websocket(pair.client).map_err(|_| unavailable())?;
    if let Some(selected) = selected {
        let set = answer.headers().set("Sec-WebSocket-Protocol", &selected);
        set.map_err(|_| unavailable())?;
    }
    Ok(answer.into())
}

/// Accepts both ends and relays messages and closes between them; closes
/// both after `max_seconds`.
fn relay(client: WebSocket, origin: WebSocket, max_seconds: u32) -> worker::Result<()> {
    let closed = Rc::new(Cell::new(false));
    let to_origin = pump(client.clone(), origin.clone(), closed.clone());
    let to_client = pump(origin.clone(), client.clone(), closed.clone());
    for socket in [&client, &origin] {
        absorb_late_errors(socket)?;
    }
    client.accept()?;
    origin.accept()?;
    spawn_local(to_origin);
    spawn_local(to_client);
    spawn_local(async move {
        Delay::from(Duration::from_secs(u64::from(max_seconds))).await;
        if !closed.replace(true) {
            let (code, reason) = TIME_LIMIT_CLOSE;
            let _ = client.close(Some(code), Some(reason));
            let _ = origin.close(Some(code), Some(reason));
        }
    });
    Ok(())
}

/// Gives `socket` an `error` listener for its whole life: after a close
/// the relay's listeners are gone, and a connection lost afterwards would
/// otherwise be an uncaught error. The listener frees itself when called;
/// one that is never called stays, a few bytes per socket.
fn absorb_late_errors(socket: &WebSocket) -> worker::Result<()> {
    let listener = Closure::once_into_js(|_: web_sys::Event| {});
    socket
        .as_ref()
        .add_event_listener_with_callback("error", listener.unchecked_ref())
        .map_err(worker::Error::from)
}

/// Relays `from`'s messages to `to` until `from` closes, then closes `to`
/// with the same code and reason. The listeners are registered on the
/// first poll, a microtask after `accept`, before any message event can be
/// dispatched.
async fn pump(from: WebSocket, to: WebSocket, closed: Rc<Cell<bool>>) {
    let mut events = match from.events() {
        Ok(events) => events,
        Err(e) => {
            console_error!("socket events: {e}");
            let _ = to.close(Some(1011), Some("keygate: relay failed"));
            return;
        }
    };
    while let Some(event) = events.next().await {
        match event {
            Ok(WebsocketEvent::Message(message)) => {
                let sent = match (message.text(), message.bytes()) {
                    (Some(text), _) => to.send_with_str(text),
                    (None, Some(bytes)) => to.send_with_bytes(bytes),
                    (None, None) => Ok(()),
                };
                if sent.is_err() {
                    break;
                }
            }
            Ok(WebsocketEvent::Close(close)) => {
                // The first close is answered on this side (completing
                // its handshake) and passed on; the other side's answer to
                // that needs nothing more: closing a socket twice loses
                // its connection.
                if !closed.replace(true) {
                    let code = relay_close_code(close.code());
                    let _ = from.close(Some(code), Some(close.reason()));
                    let _ = to.close(Some(code), Some(close.reason()));
                }
                return;
            }
            Err(_) => break,
        }
    }
    if !closed.replace(true) {
        let _ = to.close(Some(1011), Some("keygate: relay failed"));
    }
}
