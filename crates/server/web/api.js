// api.js — every call to the backend goes through here: same-origin cookie,
// a timeout on each request, JSON in and out, and one place that notices an
// expired session (401) so the app can show the login form again.

import { t } from './i18n.js';

let onUnauthorized = () => {};

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * Calls `path`; resolves to `{ok, status, data, error}` and never throws.
 * `body` (an object) is sent as JSON; `timeoutMs` bounds the whole request.
 */
export async function api(path, { method = 'GET', body, timeoutMs = 15000, quiet401 = false } = {}) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  const init = { method, credentials: 'same-origin', signal: ctrl.signal, headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  init.headers.accept = 'application/json';
  try {
    const res = await fetch(path, init);
    let data = null;
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    const error = res.ok ? null : (errorText(data) || t('err.http', { status: res.status }));
    if (res.status === 401 && !quiet401) onUnauthorized();
    return { ok: res.ok, status: res.status, data, error };
  } catch (e) {
    const aborted = e && e.name === 'AbortError';
    return { ok: false, status: 0, data: null, error: aborted ? t('err.timeout') : t('err.network') };
  } finally {
    clearTimeout(timer);
  }
}

/** The message of an error body: `{"error"}`, or a FHIR OperationOutcome's diagnostics. */
function errorText(data) {
  if (!data || typeof data !== 'object') return null;
  if (typeof data.error === 'string') return data.error;
  const issue = Array.isArray(data.issue) ? data.issue[0] : null;
  return issue ? (issue.diagnostics || issue.details?.text || issue.code || null) : null;
}

export const enc = encodeURIComponent;
