// The crisis screen and "Get help now". Help works offline and without any request: it reads the
// lines cached on this device at the last sign-in, or shows the emergency numbers every phone knows.
import { h } from './dom.js';

const KEY = 'tandem.help';

export function cacheHelp(me, resources, plan) {
  localStorage.setItem(KEY, JSON.stringify({ owner: me.id, locale: me.locale, ...resources, safety_plan: plan && plan.sections && plan.sections.length ? plan : null }));
}

export function cachedHelp(me) {
  try {
    const help = JSON.parse(localStorage.getItem(KEY) || 'null');
    return help && (!me || help.owner === me.id) ? help : null;
  } catch {
    return null;
  }
}

// On sign-out the personal safety plan leaves the device; the public crisis lines stay for "Get help now".
export function forgetPlan() {
  const help = cachedHelp(null);
  if (help) localStorage.setItem(KEY, JSON.stringify({ ...help, safety_plan: null }));
}

const dial = (phone) => phone.replace(/[^\d+]/g, '');

export function lines(resources, t) {
  return h('ul', { class: 'lines' }, resources.map((line) => h('li', {},
    h('span', { class: 'line-name', text: line.name }),
    line.phone ? h('a', { class: 'call', href: `tel:${dial(line.phone)}`, text: t('crisis.call', { phone: line.phone }) }) : null,
    line.phone && line.kind === 'text' ? h('a', { class: 'call', href: `sms:${dial(line.phone)}`, text: t('crisis.text', { phone: line.phone }) }) : null,
    line.hours ? h('span', { class: 'meta', text: line.hours }) : null,
    line.url ? h('span', { class: 'meta', text: line.url }) : null,
  )));
}

function safetyPlan(plan, t) {
  if (!plan || !plan.sections || !plan.sections.some((section) => section.items && section.items.length)) return null;
  return h('section', { class: 'safety-plan', 'aria-labelledby': 'plan-title' },
    h('h2', { id: 'plan-title', text: t('crisis.plan') }),
    plan.sections.filter((section) => section.items && section.items.length).map((section) => [
      h('h3', { text: section.title || section.code }),
      h('ul', {}, section.items.map((item) => h('li', { text: item }))),
    ]));
}

// After an answer that carries a crisis (or support) block: shown at once, as an alert.
export function crisisView(block, t) {
  return h('div', { class: block.support ? 'crisis support' : 'crisis' },
    h('section', { role: 'alert', 'aria-labelledby': 'screen-title' },
      h('h1', { id: 'screen-title', tabindex: '-1', text: block.support ? t('crisis.support_title') : t('crisis.title') }),
      h('p', { class: 'message', text: block.message }),
      block.care_team_notice ? h('p', { class: 'honest', text: block.care_team_notice }) : null,
      lines(block.resources || [], t),
      block.clinic_instructions ? h('p', { class: 'clinic', text: block.clinic_instructions }) : null,
    ),
    safetyPlan(block.safety_plan, t),
  );
}

const FALLBACK = [
  { name: 'Emergency (Europe)', phone: '112' },
  { name: 'Emergency (US, Canada)', phone: '911' },
  { name: 'Emergency (UK)', phone: '999' },
  { name: 'Emergency (Australia)', phone: '000' },
];

export function helpView(help, t) {
  const view = h('div', { class: 'crisis help' },
    h('h1', { id: 'screen-title', tabindex: '-1', text: t('help.title') }),
  );
  if (help) {
    view.append(
      h('p', { class: 'message', text: help.message }),
      lines(help.resources || [], t),
      help.clinic_instructions ? h('p', { class: 'clinic', text: help.clinic_instructions }) : null,
      h('p', { class: 'honest', text: t('help.honest') }),
    );
    const plan = safetyPlan(help.safety_plan, t);
    if (plan) view.append(plan);
  } else {
    view.append(
      h('p', { class: 'message', text: t('help.generic') }),
      lines(FALLBACK.map((line) => ({ ...line, name: t(`help.${line.phone}`) })), t),
    );
  }
  return view;
}
