// Check-ins and questionnaire answers made offline wait here, on this device, each with the
// Idempotency-Key it will be sent with: retried until the server has it, never recorded twice.
import { api, ApiError, NetworkError } from './api.js';

const KEY = 'tandem.outbox';

function read() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || '[]');
  } catch {
    return [];
  }
}

function write(items) {
  localStorage.setItem(KEY, JSON.stringify(items));
}

export function waiting(owner) {
  return read().filter((item) => item.owner === owner);
}

// Send now when possible; keep it for later when the network is not there. Returns the answer, or
// {queued: true}. `stamp` names the body's field for when it was made: set only on what waits, so
// the server's clock dates what arrives at once, and the phone's dates what was made offline.
export async function submit(owner, path, body, stamp) {
  const item = { owner, path, body, key: crypto.randomUUID() };
  const keep = () => {
    write([...read(), item]);
    return { queued: true };
  };
  if (!navigator.onLine) {
    item.body = { ...body, [stamp]: new Date().toISOString() };
    return keep();
  }
  try {
    return await post(item);
  } catch (error) {
    // It may have reached the server: the retry must be the same request, under the same key.
    if (error instanceof NetworkError) return keep();
    throw error;
  }
}

function post(item) {
  return api(item.path, { method: 'POST', body: item.body, headers: { 'Idempotency-Key': item.key } });
}

let flushing = null;

// Send what waits, oldest first. Answers that carry a crisis block are returned so the app shows them.
export function flush(owner) {
  if (!flushing) {
    flushing = (async () => {
      const answers = [];
      for (const item of read().filter((entry) => entry.owner === owner)) {
        try {
          answers.push(await post(item));
        } catch (error) {
          if (error instanceof NetworkError) break;
          if (error instanceof ApiError && (error.status === 401 || error.status === 429 || error.status >= 500)) break;
          // Refused for good (the questionnaire changed, the note too long): drop it, say so.
          answers.push({ refused: true, detail: error.detail });
        }
        write(read().filter((entry) => entry.key !== item.key));
      }
      return answers;
    })().finally(() => {
      flushing = null;
    });
  }
  return flushing;
}
