// Tandem for clients: hash-routed screens built on the public client API (/api/v1) only.
import * as API from './api.js';
import { h, field, markdown } from './dom.js';
import { loadLocale, locale, savedLocale, t } from './i18n.js';
import * as outbox from './queue.js';
import { moodChart } from './chart.js';
import { crisisView, cacheHelp, cachedHelp, forgetPlan, helpView, lines } from './crisis.js';

const main = () => document.getElementById('main');
// `ended`: the email and password of a client whose care has ended, in memory only, for the screen
// that tells them so and downloads their data (no token opens anything for them any more).
const state = { me: null, crisis: null, notice: null, resetToken: null, consent: null, ended: null };
const PUBLIC = new Set(['welcome', 'activate', 'signin', 'forgot', 'reset', 'help', 'ended']);

function route() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean);
  return { name: parts[0] || '', arg: parts[1], params: new URLSearchParams(query) };
}

export function go(name) {
  if (location.hash === `#/${name}`) render();
  else location.hash = `#/${name}`;
}

function notify(text, kind = 'info') {
  state.notice = { text, kind };
}

// ---- the frame around every screen ---------------------------------------------------------

function renderFrame() {
  document.title = t('app.title');
  document.getElementById('skip').textContent = t('frame.skip');
  document.getElementById('help-link').textContent = t('frame.help');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('frame.nav'));
  nav.replaceChildren();
  if (API.signedIn()) {
    nav.append(
      h('ul', {},
        h('li', {}, h('a', { href: '#/home', text: t('nav.home') })),
        h('li', {}, h('a', { href: '#/checkin', text: t('nav.checkin') })),
        h('li', {}, h('a', { href: '#/data', text: t('nav.data') })),
      ),
    );
  }
  const select = h('select', { id: 'language', onchange: (event) => switchLanguage(event.target.value) },
    h('option', { value: 'en', lang: 'en', selected: locale() === 'en', text: 'English' }),
    h('option', { value: 'fr', lang: 'fr', selected: locale() === 'fr', text: 'Français' }),
  );
  document.getElementById('lang').replaceChildren(h('label', { for: 'language', text: t('frame.language') }), select);
  const waiting = state.me ? outbox.waiting(state.me.id).length : 0;
  const pending = document.getElementById('pending');
  pending.textContent = waiting ? t('offline.waiting', { count: waiting }) : '';
  pending.hidden = !waiting;
}

async function switchLanguage(code) {
  await loadLocale(code);
  if (API.signedIn()) {
    try {
      state.me = await API.api('/me', { method: 'PATCH', body: { locale: code } });
    } catch {
      /* offline: the app speaks the new language now, the server learns it next time */
    }
  }
  await render();
  document.getElementById('language').focus();
}

function screen(title, ...children) {
  const heading = h('h1', { id: 'screen-title', tabindex: '-1', text: title });
  const notice = state.notice
    ? h('p', { class: `notice ${state.notice.kind}`, role: 'status' }, state.notice.text)
    : null;
  state.notice = null;
  main().replaceChildren(...[heading, notice, ...children].flat().filter((child) => child !== null && child !== undefined));
  return heading;
}

function statusLine() {
  return h('p', { class: 'status', role: 'status', 'aria-live': 'polite', id: 'form-status' });
}

function say(text) {
  const line = document.getElementById('form-status');
  if (line) line.textContent = text;
}

function button(text, attrs = {}) {
  return h('button', { type: 'submit', ...attrs, text });
}

async function guarded(form, action) {
  const submitter = form.querySelector('button[type=submit]');
  if (submitter) submitter.disabled = true;
  say('');
  try {
    await action();
  } catch (error) {
    say(API.errorText(error, t));
  } finally {
    if (submitter) submitter.disabled = false;
  }
}

// ---- start: invitation, sign in, forgotten password ----------------------------------------------

function welcome() {
  screen(t('welcome.title'),
    h('p', { text: t('welcome.intro') }),
    h('p', { class: 'disclosure', text: t('ai.short') }),
    h('p', {}, h('a', { class: 'button', href: '#/activate', text: t('welcome.invite') })),
    h('p', {}, h('a', { class: 'button secondary', href: '#/signin', text: t('welcome.signin') })),
  );
}

function activationScreen() {
  const code = h('input', { name: 'invite_code', autocomplete: 'one-time-code', required: true, autocapitalize: 'characters' });
  const consentBox = h('section', { class: 'consent', 'aria-labelledby': 'consent-title', hidden: true });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: '10' });
  const agree = h('input', { type: 'checkbox', id: 'agree', name: 'agree', required: true });
  state.consent = null;

  async function loadConsent() {
    const value = code.value.trim();
    if (!value || (state.consent && state.consent.code === value)) return state.consent;
    const consent = await API.api(`/consent?invite_code=${encodeURIComponent(value)}`, { auth: false });
    state.consent = { ...consent, code: value };
    consentBox.replaceChildren(h('h2', { id: 'consent-title', text: t('activate.consent') }), markdown(consent.text));
    consentBox.lang = consent.locale;
    consentBox.hidden = false;
    return state.consent;
  }

  const form = h('form', { novalidate: true },
    field(t('activate.code'), code, t('activate.code_hint')),
    h('p', {}, h('button', { type: 'button', class: 'secondary', text: t('activate.read_consent'),
      onclick: () => loadConsent().catch((error) => say(API.errorText(error, t))) })),
    consentBox,
    field(t('field.email'), email),
    field(t('field.password'), password, t('password.hint')),
    h('div', { class: 'check' }, agree, h('label', { for: 'agree', text: t('activate.agree') })),
    statusLine(),
    button(t('activate.submit')),
  );
  code.addEventListener('change', () => loadConsent().catch((error) => say(API.errorText(error, t))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(form, async () => {
      const consent = await loadConsent();
      if (!consent) return say(t('activate.need_code'));
      if (!agree.checked) return say(t('activate.need_agree'));
      await API.activate({
        invite_code: code.value.trim(),
        email: email.value.trim(),
        password: password.value,
        consent_version: consent.version,
      });
      await afterSignIn();
      notify(t('activate.done'));
      go('home');
    });
  });
  screen(t('activate.title'), h('p', { text: t('activate.intro') }), form);
}

function signInScreen() {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { novalidate: true },
    field(t('field.email'), email),
    field(t('field.password'), password),
    statusLine(),
    button(t('signin.submit')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(form, async () => {
      const credentials = { email: email.value.trim(), password: password.value };
      try {
        await API.signIn(credentials.email, credentials.password);
      } catch (error) {
        // The right password of an account whose care has ended: say so, and keep their data within reach.
        if (!(error instanceof API.ApiError && error.status === 403)) throw error;
        state.ended = { ...credentials, welcomed: false };
        return go('ended');
      }
      await afterSignIn();
      go('home');
    });
  });
  screen(t('signin.title'), form, h('p', {}, h('a', { href: '#/forgot', text: t('signin.forgot') })),
    h('p', {}, h('a', { href: '#/activate', text: t('welcome.invite') })));
}

function forgotScreen() {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const form = h('form', { novalidate: true }, field(t('field.email'), email), statusLine(), button(t('forgot.submit')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(form, async () => {
      await API.api('/auth/password-reset', { method: 'POST', body: { email: email.value.trim() }, auth: false });
      say(t('forgot.sent'));
    });
  });
  screen(t('forgot.title'), h('p', { text: t('forgot.intro') }), form, h('p', {}, h('a', { href: '#/signin', text: t('welcome.signin') })));
}

function resetScreen(params) {
  // Take the token out of the address bar at once: it must not stay in history.
  if (params.get('token')) {
    state.resetToken = params.get('token');
    history.replaceState(null, '', '#/reset');
  }
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true });
  const form = h('form', { novalidate: true }, field(t('reset.password'), password, t('password.hint')), statusLine(), button(t('reset.submit')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(form, async () => {
      await API.api('/auth/password-reset/confirm', {
        method: 'POST', body: { token: state.resetToken || '', password: password.value }, auth: false,
      });
      state.resetToken = null;
      notify(t('reset.done'));
      go('signin');
    });
  });
  screen(t('reset.title'), form);
}

async function afterSignIn() {
  state.me = await API.api('/me');
  if (state.me.locale !== locale()) await loadLocale(state.me.locale);
  refreshHelpCache();
  sendWaiting();
}

async function refreshHelpCache() {
  try {
    const resources = await API.api('/crisis-resources');
    let plan = null;
    try {
      plan = await API.api('/safety-plan');
    } catch (error) {
      if (!(error instanceof API.ApiError && error.status === 404)) throw error;
    }
    cacheHelp(state.me, resources, plan);
  } catch {
    /* keep the copy already cached */
  }
}

// ---- after care: the screen of a client whose care has ended ------------------------------------

function longDate(iso) {
  const text = new Intl.DateTimeFormat(locale(), { dateStyle: 'long' }).format(new Date(iso));
  return locale() === 'fr' ? text.replace(/^1 /, '1er ') : text;
}

function saveFile(data, name) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const link = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}

async function endedScreen() {
  const who = state.ended;
  if (!who) return go('signin');
  const credentials = { email: who.email, password: who.password };
  const ended = await API.api('/auth/care-ended', { method: 'POST', body: credentials, auth: false });
  if (!who.welcomed) {
    // Told in the language of their account, as the app speaks after a sign-in.
    who.welcomed = true;
    if (ended.locale !== locale()) {
      await loadLocale(ended.locale);
      renderFrame();
    }
  }
  const download = h('button', { type: 'button', text: t('ended.download'), onclick: async () => {
    download.disabled = true;
    say('');
    try {
      saveFile(await API.api('/auth/export', { method: 'POST', body: credentials, auth: false }), 'tandem-my-data.json');
      say(t('data.downloaded'));
    } catch (error) {
      say(API.errorText(error, t));
    } finally {
      download.disabled = false;
    }
  } });
  const leave = h('button', { type: 'button', class: 'secondary', text: t('ended.leave'), onclick: () => {
    state.ended = null;
    go('welcome');
  } });
  const help = ended.help;
  screen(t('ended.title', { clinic: ended.clinic }),
    h('p', { text: t('ended.intro', { date: longDate(ended.ended_at) }) }),
    h('section', { 'aria-labelledby': 'ended-data-title' },
      h('h2', { id: 'ended-data-title', text: t('ended.data_title') }),
      h('p', { text: t('ended.data_intro') }),
      statusLine(),
      download),
    h('section', { class: 'after-care', 'aria-labelledby': 'ended-help-title' },
      h('h2', { id: 'ended-help-title', text: t('ended.help_title') }),
      h('p', { text: t('ended.clinic', { clinic: ended.clinic }) }),
      help.clinic_instructions ? h('p', { class: 'clinic', text: help.clinic_instructions }) : null,
      h('p', { class: 'message', text: help.message }),
      lines(help.resources || [], t)),
    h('p', {}, leave),
  );
}

// ---- home -------------------------------------------------------------------------------------

function todayIn(timezone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

async function home() {
  const me = state.me;
  const [latest, measures, assignments, trends] = await Promise.all([
    API.api('/checkins?limit=1').catch(() => null),
    API.api('/measures').catch(() => []),
    API.api('/assignments').catch(() => []),
    API.api('/checkins/trends?days=28').catch(() => null),
  ]);
  const done = latest && latest.length && latest[0].local_date === todayIn(me.timezone);
  const due = measures.filter((m) => m.due);
  screen(t('home.title', { name: me.display_name }),
    h('p', { class: 'disclosure', text: t('ai.home') }),
    h('section', { 'aria-labelledby': 'today-title' },
      h('h2', { id: 'today-title', text: t('home.today') }),
      done ? h('p', { text: t('home.checked_in') }) : h('p', { text: t('home.not_checked_in') }),
      h('p', {}, h('a', { class: 'button', href: '#/checkin', text: done ? t('home.checkin_again') : t('home.checkin') })),
    ),
    h('section', { 'aria-labelledby': 'measures-title' },
      h('h2', { id: 'measures-title', text: t('home.questionnaires') }),
      due.length
        ? h('ul', { class: 'cards' }, due.map((m) => h('li', {}, h('a', { href: `#/measure/${m.code}`, text: m.title }))))
        : h('p', { text: t('home.no_questionnaires') }),
    ),
    h('section', { 'aria-labelledby': 'exercises-title' },
      h('h2', { id: 'exercises-title', text: t('home.exercises') }),
      assignments.length
        ? h('ul', { class: 'cards' }, assignments.map((a) => h('li', {},
            h('a', { href: `#/exercise/${a.id}`, text: a.title }),
            h('span', { class: 'meta', text: exerciseStatus(a) }))))
        : h('p', { text: t('home.no_exercises') }),
    ),
    h('section', { 'aria-labelledby': 'chart-title' },
      h('h2', { id: 'chart-title', text: t('home.chart') }),
      trends ? moodChart(trends, t, locale()) : h('p', { text: t('home.no_chart') }),
    ),
  );
}

function exerciseStatus(assignment) {
  if (assignment.status === 'paused') return t('exercise.paused');
  if (assignment.in_progress_session_id) return t('exercise.resume');
  if (assignment.due_now) return t('exercise.due');
  return assignment.next_due_on ? t('exercise.next', { date: assignment.next_due_on }) : '';
}

// ---- check-in ---------------------------------------------------------------------------------

async function checkinScreen() {
  const tags = await API.api('/checkins/tags').catch(() => []);
  const scale = (name, value) => h('input', { type: 'range', name, min: '0', max: '10', step: '1', value: String(value) });
  const mood = scale('mood', 5);
  const anxiety = scale('anxiety', 5);
  const moodOut = h('output', { for: 'mood', text: '5' });
  const anxietyOut = h('output', { for: 'anxiety', text: '5' });
  mood.id = 'mood';
  anxiety.id = 'anxiety';
  mood.addEventListener('input', () => { moodOut.textContent = mood.value; });
  anxiety.addEventListener('input', () => { anxietyOut.textContent = anxiety.value; });
  const sleep = h('input', { type: 'number', name: 'sleep_hours', min: '0', max: '24', step: '0.5', inputmode: 'decimal' });
  const note = h('textarea', { name: 'note', rows: '4', maxlength: '2000' });
  const tagBoxes = tags.map((tag) => {
    const box = h('input', { type: 'checkbox', name: 'tags', value: tag.code, id: `tag-${tag.code}` });
    return h('div', { class: 'check' }, box, h('label', { for: `tag-${tag.code}`, text: tag.label }));
  });
  const form = h('form', { novalidate: true },
    h('div', { class: 'scale' }, field(t('checkin.mood'), mood, t('checkin.mood_hint')), moodOut),
    h('div', { class: 'scale' }, field(t('checkin.anxiety'), anxiety, t('checkin.anxiety_hint')), anxietyOut),
    field(t('checkin.sleep'), sleep),
    tags.length ? h('fieldset', { class: 'tags' }, h('legend', { text: t('checkin.tags') }), tagBoxes) : null,
    field(t('checkin.note'), note, t('checkin.note_hint')),
    statusLine(),
    button(t('checkin.save')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(form, async () => {
      const body = {
        mood: Number(mood.value),
        anxiety: Number(anxiety.value),
        tags: [...form.querySelectorAll('input[name=tags]:checked')].map((box) => box.value),
      };
      if (sleep.value !== '') body.sleep_hours = Number(sleep.value);
      if (note.value.trim()) body.note = note.value;
      const answer = await outbox.submit(state.me.id, '/checkins', body, 'recorded_at');
      afterAnswer(answer, t('checkin.saved'));
    });
  });
  screen(t('checkin.title'), form);
}

// What any answer may carry: crisis first, before anything else; then support; then a plain note.
function afterAnswer(answer, savedText) {
  if (answer.queued) {
    notify(t('offline.queued'));
    return go('home');
  }
  if (answer.crisis) {
    state.crisis = answer.crisis;
    return go('crisis');
  }
  if (answer.support) {
    state.crisis = { ...answer.support, support: true };
    return go('crisis');
  }
  notify(savedText);
  if (answer.follow_up && answer.follow_up.length) notify(`${savedText} ${t('checkin.follow_up')}`);
  go('home');
}

async function sendWaiting() {
  if (!state.me || !navigator.onLine || !outbox.waiting(state.me.id).length) return;
  const answers = await outbox.flush(state.me.id);
  const urgent = answers.find((answer) => answer && answer.crisis);
  const sent = answers.filter((answer) => answer && !answer.refused).length;
  if (urgent) {
    state.crisis = urgent.crisis;
    return go('crisis');
  }
  if (sent) notify(t('offline.sent', { count: sent }));
  if (answers.some((answer) => answer && answer.refused)) notify(t('offline.refused'), 'error');
  render();
}

// ---- questionnaires ---------------------------------------------------------------------------

async function measureScreen(code) {
  const definition = await API.api(`/measures/${encodeURIComponent(code)}`);
  const answers = new Array(definition.items.length).fill(null);
  const indexOf = (id) => definition.items.findIndex((item) => item.id === id);
  const visible = () => definition.items.filter((item) => !item.ask_if || answers[indexOf(item.ask_if.item)] === item.ask_if.answer);
  let position = 0;

  const show = () => {
    const items = visible();
    const item = items[position];
    const index = indexOf(item.id);
    const name = `item-${item.id}`;
    const options = item.options.map((option, n) => {
      const id = `${name}-${n}`;
      const radio = h('input', { type: 'radio', name, id, value: String(option.value), checked: answers[index] === option.value });
      return h('div', { class: 'check' }, radio, h('label', { for: id, text: option.label }));
    });
    const last = position === items.length - 1;
    const form = h('form', { novalidate: true },
      h('p', { class: 'progress', text: t('measure.progress', { n: position + 1, total: items.length }) }),
      definition.stem ? h('p', { class: 'stem', id: 'stem', text: definition.stem }) : null,
      h('fieldset', { 'aria-describedby': definition.stem ? 'stem' : null },
        h('legend', { class: 'item', text: item.text }),
        options),
      statusLine(),
      h('div', { class: 'actions' },
        position > 0 ? h('button', { type: 'button', class: 'secondary', text: t('measure.back'), onclick: () => { position -= 1; show(); } }) : null,
        button(last ? t('measure.submit') : t('measure.next'))),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const chosen = form.querySelector(`input[name="${name}"]:checked`);
      if (!chosen) return say(t('measure.choose'));
      answers[index] = Number(chosen.value);
      if (!last) {
        position += 1;
        return show();
      }
      guarded(form, async () => {
        const shown = new Set(visible().map((entry) => entry.id));
        const body = {
          answers: definition.items.map((entry, n) => (shown.has(entry.id) ? answers[n] : 0)),
        };
        const answer = await outbox.submit(state.me.id, `/measures/${code}/responses`, body, 'completed_at');
        afterAnswer(answer, t('measure.saved'));
      });
    });
    const heading = screen(definition.title, definition.instructions ? h('p', { text: definition.instructions }) : null, form);
    heading.focus();
  };
  show();
}

// ---- guided exercises -------------------------------------------------------------------------

async function exerciseScreen(assignmentId) {
  const started = await API.api(`/assignments/${encodeURIComponent(assignmentId)}/sessions`, { method: 'POST' });
  const sessionId = started.session_id;
  const details = await API.api(`/sessions/${encodeURIComponent(sessionId)}`);
  const log = h('ol', { class: 'chat' });
  const conversation = h('div', { role: 'log', 'aria-live': 'polite', 'aria-label': t('exercise.conversation') }, log);
  const line = (role, text) => log.append(h('li', { class: role }, h('span', { class: 'who', text: role === 'coach' ? t('exercise.coach') : t('exercise.you') }), h('p', { text })));
  for (const entry of details.transcript) line(entry.role, entry.text);
  if (!details.transcript.length) line('coach', started.message);

  // The long disclosure once per session; the short one stays in view.
  const seenKey = `tandem.disclosed.${sessionId}`;
  const disclosure = sessionStorage.getItem(seenKey)
    ? null
    : h('details', { class: 'disclosure', open: true }, h('summary', { text: t('ai.short') }), h('p', { text: t('ai.long') }));
  sessionStorage.setItem(seenKey, '1');

  const text = h('textarea', { name: 'text', rows: '3', maxlength: '2000', required: true });
  const form = h('form', { novalidate: true }, field(t('exercise.answer'), text), statusLine(), button(t('exercise.send')));
  const finished = h('p', { class: 'notice', role: 'status' });
  const end = (message) => {
    form.replaceWith(h('div', {}, finished, h('p', {}, h('a', { class: 'button', href: '#/home', text: t('nav.home') }))));
    finished.textContent = message;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!text.value.trim()) return say(t('exercise.empty'));
    guarded(form, async () => {
      const said = text.value;
      const answer = await API.api(`/sessions/${encodeURIComponent(sessionId)}/messages`, { method: 'POST', body: { text: said } });
      line('client', said);
      text.value = '';
      if (answer.crisis) {
        state.crisis = answer.crisis;
        return go('crisis');
      }
      line('coach', answer.message);
      if (answer.support) {
        state.crisis = { ...answer.support, support: true };
      }
      if (answer.done) end(t('exercise.complete'));
      else text.focus();
    });
  });
  screen(details.title, disclosure || h('p', { class: 'disclosure short', text: t('ai.short') }), conversation, form);
  if (details.done || started.done) end(t('exercise.complete'));
}

// ---- my data ----------------------------------------------------------------------------------

async function dataScreen() {
  const reminders = await API.api('/me/reminders').catch(() => null);
  const download = h('button', { type: 'button', text: t('data.download'), onclick: async () => {
    try {
      const data = await API.api('/me/export');
      const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
      const link = h('a', { href: URL.createObjectURL(blob), download: 'tandem-my-data.json' });
      document.body.append(link);
      link.click();
      link.remove();
      say(t('data.downloaded'));
    } catch (error) { say(API.errorText(error, t)); }
  } });

  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const fresh = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const passwordForm = h('form', { novalidate: true }, field(t('data.current_password'), current), field(t('data.new_password'), fresh, t('password.hint')), button(t('data.change_password')));
  passwordForm.addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(passwordForm, async () => {
      await API.api('/me/password', { method: 'POST', body: { current_password: current.value, new_password: fresh.value } });
      API.forgetTokens();
      state.me = null;
      notify(t('data.password_changed'));
      go('signin');
    });
  });

  const erase = h('button', { type: 'button', class: 'danger', text: t('data.erase'), onclick: async () => {
    if (!window.confirm(t('data.erase_confirm'))) return;
    try {
      const answer = await API.api('/me', { method: 'DELETE' });
      await API.signOut();
      forgetPlan();
      state.me = null;
      notify(answer.detail);
      go('welcome');
    } catch (error) { say(API.errorText(error, t)); }
  } });

  const signOut = h('button', { type: 'button', class: 'secondary', text: t('data.signout'), onclick: async () => {
    await API.signOut().catch(() => {});
    forgetPlan();
    state.me = null;
    notify(t('data.signed_out'));
    go('welcome');
  } });

  screen(t('data.title'),
    statusLine(),
    h('section', { 'aria-labelledby': 'export-title' }, h('h2', { id: 'export-title', text: t('data.export_title') }), h('p', { text: t('data.export_intro') }), download),
    reminderSection(reminders),
    h('section', { 'aria-labelledby': 'password-title' }, h('h2', { id: 'password-title', text: t('data.password_title') }), passwordForm),
    h('section', { 'aria-labelledby': 'erase-title' }, h('h2', { id: 'erase-title', text: t('data.erase_title') }), h('p', { text: t('data.erase_intro') }), erase),
    h('section', { 'aria-labelledby': 'signout-title' }, h('h2', { id: 'signout-title', text: t('data.signout_title') }), signOut),
  );
}

const DAYS = [1, 2, 3, 4, 5, 6, 7];

function reminderSection(current) {
  const settings = current || { enabled: false, times: ['19:00'], days: DAYS, measures: true, exercises: true, quiet_start: null, quiet_end: null, email_fallback: true };
  const enabled = h('input', { type: 'checkbox', id: 'rem-enabled', checked: settings.enabled });
  const time = h('input', { type: 'time', id: 'rem-time', value: settings.times[0] || '19:00', required: true });
  const time2 = h('input', { type: 'time', id: 'rem-time2', value: settings.times[1] || '' });
  const dayName = (day) => new Intl.DateTimeFormat(locale(), { weekday: 'long' }).format(new Date(Date.UTC(2024, 0, day, 12)));
  const days = DAYS.map((day) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id: `rem-day-${day}`, value: String(day), checked: settings.days.includes(day) }),
    h('label', { for: `rem-day-${day}`, text: dayName(day) })));
  const quietStart = h('input', { type: 'time', id: 'rem-quiet-start', value: settings.quiet_start || '' });
  const quietEnd = h('input', { type: 'time', id: 'rem-quiet-end', value: settings.quiet_end || '' });
  const box = (id, label, checked) => h('div', { class: 'check' }, h('input', { type: 'checkbox', id, checked }), h('label', { for: id, text: label }));
  const form = h('form', { novalidate: true },
    h('div', { class: 'check' }, enabled, h('label', { for: 'rem-enabled', text: t('reminders.enabled') })),
    field(t('reminders.time'), time),
    field(t('reminders.time2'), time2),
    h('fieldset', {}, h('legend', { text: t('reminders.days') }), days),
    h('fieldset', {}, h('legend', { text: t('reminders.quiet') }), field(t('reminders.quiet_start'), quietStart), field(t('reminders.quiet_end'), quietEnd)),
    box('rem-measures', t('reminders.measures'), settings.measures),
    box('rem-exercises', t('reminders.exercises'), settings.exercises),
    box('rem-email', t('reminders.email'), settings.email_fallback),
    h('p', { class: 'hint', text: t('reminders.privacy') }),
    button(t('reminders.save')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    guarded(form, async () => {
      const body = {
        enabled: enabled.checked,
        times: [time.value, time2.value].filter(Boolean),
        days: DAYS.filter((day) => document.getElementById(`rem-day-${day}`).checked),
        measures: document.getElementById('rem-measures').checked,
        exercises: document.getElementById('rem-exercises').checked,
        email_fallback: document.getElementById('rem-email').checked,
        quiet_start: quietStart.value || null,
        quiet_end: quietEnd.value || null,
      };
      await API.api('/me/reminders', { method: 'PUT', body });
      if (body.enabled) await subscribePush();
      say(t('reminders.saved'));
    });
  });
  return h('section', { 'aria-labelledby': 'reminders-title' },
    h('h2', { id: 'reminders-title', text: t('reminders.title') }),
    h('p', { text: t('reminders.intro', { timezone: state.me.timezone }) }),
    form);
}

async function subscribePush() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return;
  try {
    if ((await Notification.requestPermission()) !== 'granted') return;
    const registration = await navigator.serviceWorker.ready;
    const { application_server_key: key } = await API.api('/push/vapid-key', { auth: false });
    const raw = Uint8Array.from(atob(key.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const subscription = (await registration.pushManager.getSubscription())
      || (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: raw }));
    await API.api('/push/subscriptions', { method: 'POST', body: subscription.toJSON() });
  } catch {
    /* no push on this browser: email reminders remain */
  }
}

// ---- crisis and help --------------------------------------------------------------------------

function crisisScreen() {
  if (!state.crisis) return go(API.signedIn() ? 'home' : 'help');
  const block = state.crisis;
  const view = crisisView(block, t);
  main().replaceChildren(view, h('p', {}, h('a', { class: 'button secondary', href: '#/home', text: t('crisis.back') })));
  return view.querySelector('h1');
}

function helpScreen() {
  const view = helpView(cachedHelp(state.me), t);
  main().replaceChildren(view);
  return view.querySelector('h1');
}

// ---- routing ----------------------------------------------------------------------------------

const SCREENS = {
  welcome, activate: activationScreen, signin: signInScreen, forgot: forgotScreen, reset: resetScreen,
  home, checkin: checkinScreen, measure: measureScreen, exercise: exerciseScreen, data: dataScreen,
  crisis: crisisScreen, help: helpScreen, ended: endedScreen,
};

let rendering = Promise.resolve();

async function render() {
  const { name, arg, params } = route();
  if (!SCREENS[name]) return go(API.signedIn() ? 'home' : 'welcome');
  if (!PUBLIC.has(name) && name !== 'crisis' && !API.signedIn()) return go('welcome');
  renderFrame();
  main().setAttribute('aria-busy', 'true');
  try {
    const target = await SCREENS[name](name === 'reset' ? params : arg);
    const heading = target instanceof HTMLElement ? target : document.getElementById('screen-title');
    if (heading && document.activeElement !== document.getElementById('language')) heading.focus();
  } catch (error) {
    if (error instanceof API.ApiError && error.status === 401) {
      API.forgetTokens();
      return go('signin');
    }
    screen(t('error.title'), h('p', { text: API.errorText(error, t) }), h('p', {}, h('a', { href: '#/home', text: t('nav.home') })));
  } finally {
    main().removeAttribute('aria-busy');
  }
}

function queueRender() {
  rendering = rendering.then(render, render);
}

async function boot() {
  await loadLocale(savedLocale());
  document.getElementById('skip').addEventListener('click', (event) => {
    event.preventDefault();
    const heading = document.getElementById('screen-title') || main().querySelector('h1');
    (heading || main()).focus();
  });
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
  window.addEventListener('online', async () => {
    // Opened offline: the session could not be resumed then; it can now, and what waits goes out.
    if (!API.signedIn() && API.mayResume() && (await API.refresh().catch(() => false))) {
      await afterSignIn();
      return queueRender();
    }
    sendWaiting();
  });
  window.addEventListener('hashchange', queueRender);
  const { name } = route();
  if (name !== 'reset' && navigator.onLine && API.mayResume()) {
    try {
      if (await API.refresh()) await afterSignIn();
    } catch {
      /* not signed in */
    }
  }
  if (!location.hash) location.replace(API.signedIn() ? '#/home' : '#/welcome');
  queueRender();
}

boot();
