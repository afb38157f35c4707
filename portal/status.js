// A key's state as the page shows it.

const SOON = 7 * 86400 * 1000;

export function keyStatus(key, now = Date.now()) {
  const revoked = key.revoked_at ? Date.parse(key.revoked_at) : null;
  const expires = key.expires_at ? Date.parse(key.expires_at) : null;
  if (revoked !== null && revoked <= now) return { id: "revoked", label: "Revoked" };
  if (expires !== null && expires <= now) return { id: "expired", label: "Expired" };
  if (revoked !== null) return { id: "grace", label: "In grace" };
  if (key.enabled === false) return { id: "disabled", label: "Disabled" };
  if (expires !== null && expires - now < SOON) return { id: "expiring", label: "Expiring soon" };
  return { id: "active", label: "Active" };
}

export const isLive = (key) => ["active", "expiring", "disabled"].includes(keyStatus(key).id);
