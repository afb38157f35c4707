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

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use worker::{
    console_error, js_sys,
    wasm_bindgen::{closure::Closure, JsCast},
    wasm_bindgen_futures::{spawn_local, JsFuture},
    web_sys,
    worker_sys::ext::ResponseExt,
    Delay, WebSocket, WebSocketPair,
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
        // The origin refused the upgrade: its answer goes back as any
        // origin answer does (no `Keygate-*` header, none of keygate's
        // cookies).
        if (100..200).contains(&response.status()) {
            return Err(unavailable());
        }
        return super::upstream::without_reserved_headers(response).map_err(|_| unavailable());
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

/// Relays messages and closes between both ends, accepted once the
/// response is on its way (see [`accept_both`]); closes both after
/// `max_seconds`. The listeners run in the socket's own event dispatch, as
/// a JavaScript relay's would: the first close is answered and passed on
/// within the event that reported it.
fn relay(client: WebSocket, origin: WebSocket, max_seconds: u32) -> worker::Result<()> {
    let relay = Rc::new(Relay {
        client: client.clone(),
        origin: origin.clone(),
        closed: Cell::new(false),
        listeners: RefCell::new(Vec::new()),
    });
    relay.listen(&client, &origin)?;
    relay.listen(&origin, &client)?;
    spawn_local(async move {
        if let Err(e) = accept_both(&client, &origin).await {
            console_error!("cannot accept the relayed socket: {e}");
            relay.close_both(1011, "keygate: relay failed");
            return;
        }
        Delay::from(Duration::from_secs(u64::from(max_seconds))).await;
        let (code, reason) = TIME_LIMIT_CLOSE;
        relay.close_both(code, reason);
    });
    Ok(())
}

/// Accepts the client's end, then the origin's, one timer turn after the
/// handler returned: by then the runtime has coupled the pair's other end
/// to the response. Accepted earlier, the pair's end would already be
/// waiting to receive when that coupling starts, and workerd then reports
/// `Uncaught Error: Network connection lost.` ("other end of
/// WebSocketPipe was destroyed") once the close handshake completes
/// (tests/e2e/ws-close-repro.mjs). Nothing is lost meanwhile: each side's
/// messages wait in the runtime until its end is accepted, and the origin
/// is accepted last, so that the client's end can take what it sends.
async fn accept_both(client: &WebSocket, origin: &WebSocket) -> worker::Result<()> {
    Delay::from(Duration::ZERO).await;
    client.accept()?;
    origin.accept()
}

/// A message listener, kept alive until the relay ends.
type Listener = Closure<dyn FnMut(web_sys::MessageEvent)>;

/// Both ends of one relayed socket.
struct Relay {
    client: WebSocket,
    origin: WebSocket,
    /// Set by the first close, from either side or the time limit.
    closed: Cell<bool>,
    /// The message listeners, dropped (and removed) when the relay ends.
    listeners: RefCell<Vec<(WebSocket, Listener)>>,
}

impl Relay {
    /// Relays `from`'s messages to `to`, and `from`'s close to both.
    fn listen(self: &Rc<Self>, from: &WebSocket, to: &WebSocket) -> worker::Result<()> {
        let target = to.clone();
        let this = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let data = event.data();
                let sent = match data.as_string() {
                    Some(text) => target.send_with_str(text),
                    None => match data.dyn_into::<js_sys::ArrayBuffer>() {
                        Ok(buffer) => {
                            target.send_with_bytes(js_sys::Uint8Array::new(&buffer).to_vec())
                        }
                        Err(_) => Ok(()),
                    },
                };
                if sent.is_err() {
                    // Not from within this listener, which closing drops.
                    if let Some(relay) = this.upgrade() {
                        spawn_local(async move { relay.close_both(1011, "keygate: relay failed") });
                    }
                }
            },
        );
        let socket = from.as_ref();
        socket
            .add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref())
            .map_err(worker::Error::from)?;
        self.listeners.borrow_mut().push((from.clone(), on_message));
        // Each called at most once per socket: they free themselves.
        let this = Rc::clone(self);
        let on_close = Closure::once_into_js(move |event: web_sys::CloseEvent| {
            this.close_both(relay_close_code(event.code()), &event.reason());
        });
        socket
            .add_event_listener_with_callback("close", on_close.unchecked_ref())
            .map_err(worker::Error::from)?;
        // After a close, a connection lost would otherwise be uncaught.
        let on_error = Closure::once_into_js(|_: web_sys::Event| {});
        socket
            .add_event_listener_with_callback("error", on_error.unchecked_ref())
            .map_err(worker::Error::from)
    }

    /// The first call closes both ends with `code` (answering a close
    /// completes its handshake) and ends the relay; later calls do nothing.
    fn close_both(&self, code: u16, reason: &str) {
        if self.closed.replace(true) {
            return;
        }
        let _ = self.client.close(Some(code), Some(reason));
        let _ = self.origin.close(Some(code), Some(reason));
        for (socket, listener) in self.listeners.borrow_mut().drain(..) {
            let _ = socket
                .as_ref()
                .remove_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
        }
    }
}
