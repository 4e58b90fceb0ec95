// Calls to the Vigil API with the signed-in credentials. The token lives in sessionStorage (this
// tab only, never a cookie): every request carries it in an Authorization header, which another
// origin cannot make a browser send, and every write also carries X-Requested-With, a header a
// cross-site form cannot set.

const KEY = 'vigil.session';

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch (e) {
    return null;
  }
}

export function saveSession(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export function basic(email, token) {
  const bytes = new TextEncoder().encode(email + ':' + token);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return 'Basic ' + btoa(bin);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The words of an error body: Librato's {"errors":{"params":{"name":["..."]}}}, {"errors":
// {"request":["..."]}}, or the neutral {"error":"..."}.
export function errorText(status, body) {
  const parts = [];
  const walk = (v, prefix) => {
    if (v == null) return;
    if (typeof v === 'string') parts.push(prefix ? prefix + ': ' + v : v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, prefix));
    else if (typeof v === 'object')
      for (const [k, x] of Object.entries(v)) walk(x, k === 'params' || k === 'request' || k === 'system' ? prefix : k);
  };
  if (body && typeof body === 'object') {
    if (body.errors) walk(body.errors, '');
    else if (body.error) walk(body.error, '');
    else if (body.message) walk(body.message, '');
  }
  const why = parts.join('; ');
  const names = { 400: 'Bad request', 401: 'Not signed in: the email or API token is not valid',
    403: 'Not allowed for this token\'s role', 404: 'Not found', 405: 'Method not allowed',
    413: 'Request too large', 415: 'Unsupported content type', 422: 'Not accepted',
    429: 'Too many requests', 500: 'Server error', 503: 'Service unavailable' };
  const head = names[status] || 'HTTP ' + status;
  return why ? head + ' — ' + why : head;
}

export async function call(method, path, body, auth) {
  const s = session();
  const headers = { Accept: 'application/json' };
  const authz = auth || (s && s.auth);
  if (authz) headers.Authorization = authz;
  if (method !== 'GET' && method !== 'HEAD') headers['X-Requested-With'] = 'vigil-console';
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'Cannot reach the Vigil server (' + e.message + ')');
  }
  const text = await res.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch (e) {
      json = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, errorText(res.status, json));
  return json;
}

// Server-Sent Events over fetch (EventSource cannot send an Authorization header): calls
// onEvent(name, data) per event until stop() is called; reconnects after a second on errors.
export function liveStream(metric, onEvent, onState) {
  let stopped = false;
  let ctrl = null;
  const run = async () => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const s = session();
        const res = await fetch('/console/live?name=' + encodeURIComponent(metric), {
          headers: { Authorization: s ? s.auth : '', Accept: 'text/event-stream' },
          signal: ctrl.signal, credentials: 'omit', cache: 'no-store' });
        if (!res.ok) {
          let j = null;
          try { j = await res.json(); } catch (e) { /* no body */ }
          onState && onState('error', errorText(res.status, j));
        } else {
          const reader = res.body.getReader();
          const dec = new TextDecoder();
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += dec.decode(value, { stream: true });
            let i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              let ev = 'message';
              const data = [];
              for (const line of block.split('\n')) {
                if (line.startsWith('event:')) ev = line.slice(6).trim();
                else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
              }
              if (!data.length) continue;
              let parsed = null;
              try { parsed = JSON.parse(data.join('\n')); } catch (e) { continue; }
              if (ev === 'ready') onState && onState('live');
              onEvent(ev, parsed);
            }
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      if (stopped) return;
      onState && onState('reconnecting');
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  run();
  return { stop() { stopped = true; if (ctrl) ctrl.abort(); } };
}
