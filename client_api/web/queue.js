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
// {queued: true}.
export async function submit(owner, path, body) {
  const item = { owner, path, body, key: crypto.randomUUID(), made: new Date().toISOString() };
  if (!navigator.onLine) {
    write([...read(), item]);
    return { queued: true };
  }
  try {
    return await post(item);
  } catch (error) {
    if (error instanceof NetworkError) {
      write([...read(), item]);
      return { queued: true };
    }
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
