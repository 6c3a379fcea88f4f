// The worker's status (callback mode, token age, calls, core's quota rules, the month's ledger)
// and the account's send speed (speed/get, speed/set).
import { useEffect, useState } from 'preact/hooks';
import { validateSpeedSet } from 'wxmass';
import { html } from './html.js';
import { chinaTime, duration, num, pick, t, tCode } from './i18n.js';
import { api } from './api.js';
import { ErrorBox, Field, Title } from './ui.js';

function Speed() {
  const [speed, setSpeed] = useState(null);
  const [error, setError] = useState(null);
  const [value, setValue] = useState('');
  const [saved, setSaved] = useState(false);
  const load = () => api('GET', '/api/speed').then((s) => { setSpeed(s); setValue(String(s.speed)); }, setError);
  useEffect(() => { load(); }, []);
  const body = { speed: value.trim() === '' ? value : Number(value) };
  const problems = validateSpeedSet(body).problems;
  const save = async () => {
    setSaved(false);
    setError(null);
    try {
      await api('POST', '/api/speed', body);
      setSaved(true);
      await load();
    } catch (e) {
      setError(e);
    }
  };
  return html`<section class="group" aria-labelledby="speed-title">
    <h2 id="speed-title">${t('speedTitle')}</h2>
    ${speed && html`<p id="speed-now">${t('speedNow', { speed: speed.speed, real: speed.realspeed })}</p>`}
    <${Field} path="speed" label=${t('speedLabel')} hint=${t('unit_speed')} problems=${problems} value=${value} inputmode="numeric" onInput=${(e) => { setValue(e.currentTarget.value); setSaved(false); }} />
    <button type="button" id="speed-set" onClick=${save} disabled=${problems.length > 0}>${t('speedSet')}</button>
    ${saved && html`<p class="ok" role="status">${t('speedSaved')}</p>`}
    <${ErrorBox} error=${error} />
  </section>`;
}

export function Status() {
  const [s, setS] = useState(null);
  const [error, setError] = useState(null);
  const load = () => api('GET', '/api/status').then(setS, setError);
  useEffect(() => { load(); }, []);
  const yes = (b) => (b ? t('yes') : t('no'));
  return html`<section aria-labelledby="status-title">
    <${Title} id="status-title">${t('statusTitle')}</${Title}>
    <div class="row"><button type="button" onClick=${load}>${t('refresh')}</button></div>
    <${ErrorBox} error=${error} />
    ${s && html`
      <dl class="counts" id="status">
        <div><dt>${t('accountLabel')}</dt><dd id="status-account">${s.account.id} <span class="hint">(${s.account.appId})</span></dd></div>
        <div><dt>${t('accountKind')}</dt><dd>${tCode('accountKind', s.accountKind)}</dd></div>
        <div><dt>${t('callbackMode')}</dt><dd>${tCode('callbackMode', s.callback.mode)}</dd></div>
        <div><dt>${t('forwarding')}</dt><dd>${yes(s.callback.forwarding)}</dd></div>
        <div><dt>${t('forwardFailedCount')}</dt><dd>${num(s.callback.forwardFailed)}</dd></div>
        <div><dt>${t('tokenTitle')}</dt><dd id="token-age">${s.token.fetchedAt === null ? t('tokenNone') : html`${t('tokenAge', { age: duration(s.token.ageMs) })}<br /><span class="hint">${chinaTime(s.token.fetchedAt, { seconds: true })}</span>`}</dd></div>
      </dl>
      <h2>${t('callsTitle')}</h2>
      <dl class="counts" id="calls">
        ${['lastMinute', 'sendsToday', 'sendsThisMonth', 'toAllToday', 'toAllThisMonth'].map((k) => html`<div><dt>${t(k)}</dt><dd>${num(s.calls[k])}</dd></div>`)}
      </dl>
      <h2>${t('quotaTitle')}</h2>
      <div class="scroll" tabindex="0"><table class="quota" id="status-quota">
        <thead><tr><th scope="col">${t('quotaRule')}</th><th scope="col">${t('quotaWindow')}</th><th scope="col">${t('quotaUsed')}</th><th scope="col">${t('quotaLeft')}</th><th scope="col">${t('quotaLimit')}</th><th scope="col">${t('quotaResets')}</th></tr></thead>
        <tbody>${s.quota.map((r) => html`<tr><td>${pick(r.text, r.textZh)}<br /><code class="hint">${r.rule}</code></td><td>${t(`window_${r.window}`)}</td><td>${num(r.used)}</td><td>${num(r.left)}</td><td>${num(r.limit)}</td><td>${chinaTime(r.resetsAt)}</td></tr>`)}</tbody>
      </table></div>
      <h2>${t('eventsByState')}</h2>
      <p>${Object.entries(s.events).map(([k, n]) => `${tCode('state', k)} ${num(n)}`).join(' · ') || '—'}</p>
      <details>
        <summary>${t('ledgerTitle')} (${num(s.ledger.length)})</summary>
        <ul class="ledger">${s.ledger.map((r) => html`<li>${chinaTime(r.at, { seconds: true })} · ${r.kind}${r.toAll ? ` · ${t('ledgerToAll')}` : ''}</li>`)}</ul>
      </details>`}
    <${Speed} />
  </section>`;
}
