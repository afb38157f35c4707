// The API Keys page. Preact with htm, bundled by esbuild into one module
// that the control Worker serves under its nonce-guarded CSP: no inline
// script, no style attribute, nothing fetched from elsewhere.

import { h, render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { api, ApiError, idempotencyKey, signOut } from "./api.js";
import { relative, exactTime } from "./time.js";
import { keyStatus, isLive } from "./status.js";

const html = htm.bind(h);

const GRACE = [
  [0, "No grace: the old key stops now"],
  [3600, "1 hour"],
  [86400, "24 hours"],
  [7 * 86400, "7 days"],
];

function Time({ iso, empty = "Never" }) {
  if (!iso) return html`<span class="muted">${empty}</span>`;
  return html`<time datetime=${iso} title=${exactTime(iso)}>${relative(iso)}</time>`;
}

function FieldError({ error, field }) {
  const text = error?.fields?.[field];
  return text ? html`<p class="field-error" id=${`err-${field}`} role="alert">${text}</p>` : null;
}

function Banner({ error }) {
  if (!error) return null;
  const named = Object.keys(error.fields ?? {}).length > 0;
  return html`<div class="banner" role="alert">${named ? "Please fix the fields marked below." : error.message}</div>`;
}

/** A modal dialog: focus moves in on open and back to the opener on close. */
function Dialog({ title, onClose, children, labelId = "dialog-title" }) {
  const ref = useRef(null);
  useEffect(() => {
    const opener = document.activeElement;
    const dialog = ref.current;
    dialog.showModal();
    const first = dialog.querySelector("[autofocus], input, select, button");
    first?.focus();
    const cancel = (e) => { e.preventDefault(); onClose(); };
    dialog.addEventListener("cancel", cancel);
    return () => {
      dialog.removeEventListener("cancel", cancel);
      if (dialog.open) dialog.close();
      opener?.focus?.();
    };
  }, []);
  return html`<dialog ref=${ref} aria-labelledby=${labelId} class="dialog">
    <h2 id=${labelId}>${title}</h2>
    ${children}
  </dialog>`;
}

/** A secret shown once, with a copy button and a plain warning. */
function ShownOnce({ label, value, id }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      document.getElementById(id)?.select();
    }
  };
  return html`<div class="shown-once">
    <label for=${id}>${label}</label>
    <div class="copy-row">
      <input id=${id} class="secret" readonly value=${value} onFocus=${(e) => e.target.select()} />
      <button type="button" class="button" onClick=${copy}>${copied ? "Copied" : "Copy"}</button>
    </div>
  </div>`;
}

function PermissionBoxes({ product, chosen, onChange, error }) {
  if (!product) return null;
  const toggle = (name) =>
    onChange(chosen.includes(name) ? chosen.filter((n) => n !== name) : [...chosen, name]);
  return html`<fieldset class="permissions" aria-describedby=${error?.fields?.scopes ? "err-scopes" : undefined}>
    <legend>Permissions</legend>
    ${product.permissions.map(
      (p) => html`<label class="check" key=${p.name}>
        <input type="checkbox" name="scopes" value=${p.name} checked=${chosen.includes(p.name)}
          onChange=${() => toggle(p.name)} />
        <span><span class="perm-name">${p.name}</span>${p.description ? html` <span class="muted">${p.description}</span>` : null}</span>
      </label>`,
    )}
    <${FieldError} error=${error} field="scopes" />
  </fieldset>`;
}

function CreateDialog({ session, onClose, onCreated }) {
  const products = session.products.filter((p) => p.can_create);
  const [productId, setProductId] = useState(products[0]?.id ?? "");
  const product = session.products.find((p) => p.id === productId);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState(product?.default_scopes ?? []);
  // The longest expiry this page may give the product's keys, if bounded.
  const maxDays = product?.max_expiry_days ?? null;
  const [expiry, setExpiry] = useState("");
  const [webhook, setWebhook] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState(null);
  // One key per dialog: a retried submit (after a network error) creates
  // the key once and shows the same answer.
  const [idempotency] = useState(idempotencyKey);

  const pick = (id) => {
    setProductId(id);
    setScopes(session.products.find((p) => p.id === id)?.default_scopes ?? []);
  };
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { product: productId, name, scopes };
    if (expiry !== "") body.expires_in_days = Number(expiry);
    if (webhook.trim() !== "") body.webhook_url = webhook.trim();
    try {
      const key = await api("POST", "/keys", body, { "Idempotency-Key": idempotency });
      setCreated(key);
      onCreated();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(null, 0));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return html`<${Dialog} title="Your new key" onClose=${onClose}>
      <p class="warning" role="note"><strong>Copy this key now.</strong> It is shown only once; we store only a hash of it and cannot show it again.</p>
      <${ShownOnce} label=${`${created.name} (${created.product})`} value=${created.key} id="new-key" />
      ${created.webhook_secret
        ? html`<${ShownOnce} label="Webhook signing secret (shown once)" value=${created.webhook_secret} id="new-webhook-secret" />`
        : null}
      <div class="actions"><button type="button" class="button primary" onClick=${onClose}>I have stored it</button></div>
    <//>`;
  }
  const describedBy = (f) => (error?.fields?.[f] ? `err-${f}` : undefined);
  return html`<${Dialog} title="Create an API key" onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <${Banner} error=${error} />
      <label for="key-name">Name</label>
      <input id="key-name" name="name" value=${name} maxlength="100" required autofocus
        aria-invalid=${!!error?.fields?.name} aria-describedby=${describedBy("name")}
        onInput=${(e) => setName(e.target.value)} placeholder="e.g. Production server" />
      <${FieldError} error=${error} field="name" />
      ${products.length > 1
        ? html`<label for="key-product">Product</label>
            <select id="key-product" value=${productId} onChange=${(e) => pick(e.target.value)}>
              ${products.map((p) => html`<option value=${p.id}>${p.display_name}</option>`)}
            </select>
            <${FieldError} error=${error} field="product" />`
        : null}
      <${PermissionBoxes} product=${product} chosen=${scopes} onChange=${setScopes} error=${error} />
      <label for="key-expiry">Expires after</label>
      <div class="inline">
        <input id="key-expiry" type="number" min="1" max=${maxDays ?? 365} inputmode="numeric" value=${expiry}
          aria-invalid=${!!error?.fields?.expires_in_days} aria-describedby=${describedBy("expires_in_days") ?? "expiry-hint"}
          onInput=${(e) => setExpiry(e.target.value)} placeholder=${maxDays ? String(maxDays) : "Never"} />
        <span id="expiry-hint" class="muted">${maxDays ? `days (1–${maxDays}; empty: ${maxDays})` : "days (1–365; empty: never)"}</span>
      </div>
      <${FieldError} error=${error} field="expires_in_days" />
      <label for="key-webhook">Webhook URL <span class="muted">(optional)</span></label>
      <input id="key-webhook" type="url" value=${webhook} placeholder="https://example.com/hooks"
        aria-invalid=${!!error?.fields?.webhook_url} aria-describedby=${describedBy("webhook_url")}
        onInput=${(e) => setWebhook(e.target.value)} />
      <${FieldError} error=${error} field="webhook_url" />
      <div class="actions">
        <button type="button" class="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="button primary" disabled=${busy}>${busy ? "Creating…" : "Create key"}</button>
      </div>
    </form>
  <//>`;
}

function RotateDialog({ keyView, onClose, onDone }) {
  const [grace, setGrace] = useState(86400);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [rotated, setRotated] = useState(null);
  const [idempotency] = useState(idempotencyKey);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setRotated(
        await api("POST", `/keys/${encodeURIComponent(keyView.id)}/rotate`, { grace_seconds: Number(grace) }, {
          "Idempotency-Key": idempotency,
        }),
      );
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (rotated) {
    return html`<${Dialog} title="Your new key" onClose=${onClose}>
      <p class="warning" role="note"><strong>Copy this key now.</strong> It is shown only once. ${Number(grace) > 0 ? "The old key keeps working until its grace period ends." : "The old key no longer works."}</p>
      <${ShownOnce} label=${rotated.name} value=${rotated.key} id="rotated-key" />
      <div class="actions"><button type="button" class="button primary" onClick=${onClose}>I have stored it</button></div>
    <//>`;
  }
  return html`<${Dialog} title=${`Rotate “${keyView.name}”`} onClose=${onClose}>
    <form onSubmit=${submit}>
      <${Banner} error=${error} />
      <p>A new key replaces this one. Choose how long the current key keeps working, so you can deploy the new one.</p>
      <label for="grace">Grace period</label>
      <select id="grace" value=${grace} onChange=${(e) => setGrace(e.target.value)}>
        ${GRACE.map(([s, label]) => html`<option value=${s}>${label}</option>`)}
      </select>
      <${FieldError} error=${error} field="grace_seconds" />
      <div class="actions">
        <button type="button" class="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="button primary" disabled=${busy}>${busy ? "Rotating…" : "Rotate key"}</button>
      </div>
    </form>
  <//>`;
}

function RevokeDialog({ keyView, onClose, onDone }) {
  const [typed, setTyped] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const matches = typed === keyView.name;
  const submit = async (e) => {
    e.preventDefault();
    if (!matches) return;
    setBusy(true);
    setError(null);
    try {
      await api("DELETE", `/keys/${encodeURIComponent(keyView.id)}`);
      onDone();
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${`Revoke “${keyView.name}”`} onClose=${onClose}>
    <form onSubmit=${submit}>
      <${Banner} error=${error} />
      <p class="warning">Requests with this key will be refused. This cannot be undone.</p>
      <label for="confirm-name">Type <strong>${keyView.name}</strong> to confirm</label>
      <input id="confirm-name" value=${typed} autocomplete="off" autofocus onInput=${(e) => setTyped(e.target.value)} />
      <div class="actions">
        <button type="button" class="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="button danger" disabled=${!matches || busy}>${busy ? "Revoking…" : "Revoke key"}</button>
      </div>
    </form>
  <//>`;
}

/** The key's allowed networks as shown: its own list, else its product's. */
function networks(keyView, product) {
  const own = keyView.allowed_ips ?? [];
  if (own.length > 0) return own.join(", ");
  const byDefault = product?.allowed_ips ?? [];
  return byDefault.length > 0 ? `${byDefault.join(", ")} (provider's default)` : "Any";
}

/** One range per line (or comma), as the API takes them. */
const ranges = (text) => text.split(/[\s,]+/).filter((r) => r !== "");

function KeyRow({ keyView, product, multiProduct, editableIps, onChanged, onRotate, onRevoke }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(keyView.name);
  const [scopes, setScopes] = useState(keyView.scopes);
  const ownIps = (keyView.allowed_ips ?? []).join("\n");
  const [ips, setIps] = useState(ownIps);
  const [error, setError] = useState(null);
  const status = keyStatus(keyView);
  const live = isLive(keyView);
  const describe = (s) => product?.permissions.find((p) => p.name === s)?.description ?? "";
  // Permissions the operator gave the key that this page cannot grant: a
  // change of permissions here drops them.
  const fixed = keyView.scopes.filter((s) => !product?.permissions.some((p) => p.name === s));
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    const body = {};
    if (name !== keyView.name) body.name = name;
    if (JSON.stringify(scopes) !== JSON.stringify(keyView.scopes)) body.scopes = scopes.filter((s) => !fixed.includes(s));
    // Only when the provider lets this page change them (else the API
    // refuses the member with forbidden_field).
    if (editableIps && ips !== ownIps) body.allowed_ips = ranges(ips);
    if (Object.keys(body).length === 0) return setEditing(false);
    try {
      await api("PATCH", `/keys/${encodeURIComponent(keyView.id)}`, body);
      setEditing(false);
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  if (editing) {
    return html`<li class="key editing">
      <form onSubmit=${save} class="edit-form">
        <${Banner} error=${error} />
        <label for=${`name-${keyView.id}`}>Name</label>
        <input id=${`name-${keyView.id}`} value=${name} autofocus
          aria-invalid=${!!error?.fields?.name} onInput=${(e) => setName(e.target.value)} />
        <${FieldError} error=${error} field="name" />
        <${PermissionBoxes} product=${product} chosen=${scopes} onChange=${setScopes} error=${error} />
        ${fixed.length > 0
          ? html`<p class="muted">Also granted by your provider: ${fixed.join(", ")}. This page cannot grant these; changing the permissions here removes them.</p>`
          : null}
        ${editableIps
          ? html`<label for=${`ips-${keyView.id}`}>Allowed networks <span class="muted">(one CIDR range or address per line; empty: ${(product?.allowed_ips ?? []).length > 0 ? "your provider's default" : "any"})</span></label>
              <textarea id=${`ips-${keyView.id}`} rows="3" value=${ips}
                aria-invalid=${Object.keys(error?.fields ?? {}).some((f) => f.startsWith("allowed_ips"))}
                onInput=${(e) => setIps(e.target.value)} placeholder="203.0.113.0/24"></textarea>
              ${Object.keys(error?.fields ?? {}).filter((f) => f.startsWith("allowed_ips")).map((f) => html`<${FieldError} error=${error} field=${f} />`)}`
          : null}
        <div class="actions">
          <button type="button" class="button" onClick=${() => { setEditing(false); setName(keyView.name); setScopes(keyView.scopes); setIps(ownIps); setError(null); }}>Cancel</button>
          <button type="submit" class="button primary">Save</button>
        </div>
      </form>
    </li>`;
  }
  return html`<li class=${`key status-${status.id}`} data-key-id=${keyView.id}>
    <div class="key-main">
      <div class="key-title">
        <span class="key-name">${keyView.name}</span>
        <span class=${`badge badge-${status.id}`}>${status.label}</span>
      </div>
      <code class="masked" title="Key prefix and last characters">${keyView.masked}</code>
      ${multiProduct ? html`<span class="product-tag">${product?.display_name ?? keyView.product}</span>` : null}
    </div>
    <ul class="chips" aria-label="Permissions">
      ${keyView.scopes.length === 0 ? html`<li class="muted">No permissions</li>` : null}
      ${keyView.scopes.map((s) => html`<li class="chip" title=${describe(s)}>${s}${describe(s) ? html`<span class="sr-only">: ${describe(s)}</span>` : null}</li>`)}
    </ul>
    <dl class="dates">
      <div><dt>Created</dt><dd><${Time} iso=${keyView.created_at} /></dd></div>
      <div><dt>Last used</dt><dd><${Time} iso=${keyView.last_used_at} /></dd></div>
      <div><dt>Expires</dt><dd><${Time} iso=${keyView.expires_at} /></dd></div>
      <div><dt>Allowed networks</dt><dd class="networks">${networks(keyView, product)}</dd></div>
    </dl>
    ${live
      ? html`<div class="row-actions">
          <button type="button" class="button small" onClick=${() => setEditing(true)} aria-label=${`Edit ${keyView.name}`}>Edit</button>
          <button type="button" class="button small" onClick=${() => onRotate(keyView)} aria-label=${`Rotate ${keyView.name}`}>Rotate</button>
          <button type="button" class="button small danger" onClick=${() => onRevoke(keyView)} aria-label=${`Revoke ${keyView.name}`}>Revoke</button>
        </div>`
      : null}
  </li>`;
}

const EVENT_TEXT = {
  "key.created": "created",
  "key.updated": "updated",
  "key.rotated": "rotated",
  "key.revoked": "revoked",
  "key.expired": "expired",
  "key.leaked": "reported as leaked",
  "webhook.disabled": "webhook disabled (it answered 410 Gone)",
};

function Events({ events, keys }) {
  if (!events) return null;
  const nameOf = (id) => keys.find((k) => k.id === id)?.name;
  return html`<section class="events" aria-labelledby="events-title">
    <h2 id="events-title">Recent activity</h2>
    ${events.length === 0 ? html`<p class="muted">Nothing yet.</p>` : null}
    <ol>
      ${events.map((e) => html`<li key=${e.id ?? e.seq}>
        <span>${nameOf(e.key_id) ? html`Key <strong>${nameOf(e.key_id)}</strong> ` : "Key "}${EVENT_TEXT[e.type] ?? e.type.replace(/[._]/g, " ")}</span>
        <${Time} iso=${e.at ?? e.timestamp} />
      </li>`)}
    </ol>
  </section>`;
}

function App() {
  const [session, setSession] = useState(null);
  const [keys, setKeys] = useState(null);
  const [events, setEvents] = useState(null);
  const [error, setError] = useState(null);
  const [dialog, setDialog] = useState(null);
  const [showInactive, setShowInactive] = useState(false);

  const load = async () => {
    try {
      const [s, k, e] = await Promise.all([api("GET", "/session"), api("GET", "/keys"), api("GET", "/events")]);
      setSession(s);
      setKeys(k.keys ?? k);
      setEvents(e.events ?? e);
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => { load(); }, []);

  if (error && !session) {
    return html`<main class="page"><div class="banner" role="alert">${error.message}</div></main>`;
  }
  if (!session || !keys) return html`<main class="page"><p class="muted" aria-live="polite">Loading…</p></main>`;

  const single = session.products.length === 1 ? session.products[0] : null;
  const product = (id) => session.products.find((p) => p.id === id);
  const canCreate = session.products.some((p) => p.can_create);
  const limitReason = session.products.map((p) => p.create_blocked).filter(Boolean).join(" ");
  const shown = keys.filter((k) => showInactive || isLive(k));
  const hidden = keys.length - shown.length;

  return html`<div class="shell">
    <header class="top">
      <div class="brand">
        ${single?.logo_url ? html`<img src=${single.logo_url} alt="" class="logo" />` : null}
        <span class="brand-name">${single ? single.display_name : session.title}</span>
      </div>
      <nav class="nav" aria-label="Account">
        <a class="back" href=${session.return_url}>← Back</a>
        <button type="button" class="link" onClick=${async () => { await signOut(); location.assign(session.return_url); }}>Sign out</button>
      </nav>
    </header>
    <main class="page" id="main">
      <div class="heading">
        <h1>API keys</h1>
        <div class="create">
          <button type="button" class="button primary" disabled=${!canCreate}
            aria-describedby=${canCreate ? undefined : "limit-reason"} onClick=${() => setDialog({ kind: "create" })}>Create key</button>
          ${canCreate ? null : html`<p id="limit-reason" class="muted">${limitReason || "You cannot create keys here."}</p>`}
        </div>
      </div>
      ${error ? html`<div class="banner" role="alert">${error.message}</div>` : null}
      ${shown.length === 0
        ? html`<p class="empty">No keys yet. Create one to start calling the API.</p>`
        : html`<ul class="keys" aria-label="API keys">
            ${shown.map((k) => html`<${KeyRow} key=${k.id} keyView=${k} product=${product(k.product)}
              multiProduct=${!single} editableIps=${session.editable_allowed_ips === true} onChanged=${load}
              onRotate=${(v) => setDialog({ kind: "rotate", key: v })}
              onRevoke=${(v) => setDialog({ kind: "revoke", key: v })} />`)}
          </ul>`}
      ${hidden > 0 || showInactive
        ? html`<button type="button" class="link" onClick=${() => setShowInactive(!showInactive)}>
            ${showInactive ? "Hide revoked and expired keys" : `Show ${hidden} revoked or expired key${hidden === 1 ? "" : "s"}`}
          </button>`
        : null}
      <${Events} events=${events} keys=${keys} />
    </main>
    ${dialog?.kind === "create" ? html`<${CreateDialog} session=${session} onClose=${() => setDialog(null)} onCreated=${load} />` : null}
    ${dialog?.kind === "rotate" ? html`<${RotateDialog} keyView=${dialog.key} onClose=${() => setDialog(null)} onDone=${load} />` : null}
    ${dialog?.kind === "revoke" ? html`<${RevokeDialog} keyView=${dialog.key} onClose=${() => setDialog(null)} onDone=${load} />` : null}
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
