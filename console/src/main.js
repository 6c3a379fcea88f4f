// The wxmass admin console: sign in with the admin token, then compose, jobs, events and status.
// One page, hash routes (#/compose, #/jobs, #/jobs/<id>, #/events, #/status), so the worker
// serves it as plain static files. Importing wxmass loads its WebAssembly once, before the first
// render (top-level await).
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { getLang, setLang, t, tCode, useLang } from './i18n.js';
import { api, clearToken, getAccount, getToken, setAccount, setToken, whenUnauthorized } from './api.js';
import { Compose } from './compose.js';
import { JobList, JobPage } from './jobs.js';
import { Events } from './events.js';
import { Status } from './status.js';
import { Title } from './ui.js';

function SignIn({ onSignedIn, notice }) {
  const [token, setTokenText] = useState('');
  const [error, setError] = useState(notice ?? null);
  const [busy, setBusy] = useState(false);
  const input = useRef(null);
  // A refused token leaves the focus in the field to fix, not on the page's body.
  useEffect(() => {
    if (error && !busy) input.current?.focus();
  }, [error, busy]);
  const submit = async (e) => {
    e.preventDefault();
    if (token.trim() === '') {
      setError(t('emptyToken'));
      return;
    }
    setBusy(true);
    setError(null);
    const signIn = () => {
      setToken(token.trim());
      onSignedIn();
    };
    try {
      await api('GET', '/api/status', undefined, { token: token.trim() });
      signIn();
    } catch (failure) {
      // 403: a token of other accounts than this tab's (the account is picked in the header).
      if (failure.status === 403) signIn();
      else setError(failure.status === 401 ? t('wrongToken') : tCode('err', failure.error?.code) === failure.error?.code ? t('err_default') : t(`err_${failure.error.code}`));
    } finally {
      setBusy(false);
    }
  };
  return html`<section class="signin" aria-labelledby="signin-title">
    <${Title} id="signin-title">${t('signInTitle')}</${Title}>
    <form onSubmit=${submit} novalidate>
      <div class=${`field${error ? ' field-error' : ''}`}>
        <label for="token">${t('tokenLabel')}</label>
        <p class="hint" id="token-hint">${t('signInHint')}</p>
        ${error && html`<p class="error-message" id="token-error" role="alert">${error}</p>`}
        <input id="token" ref=${input} type="password" autocomplete="current-password" value=${token} onInput=${(e) => setTokenText(e.currentTarget.value)}
          aria-describedby=${error ? 'token-hint token-error' : 'token-hint'} aria-invalid=${error ? 'true' : undefined} />
      </div>
      <button type="submit" class="primary" disabled=${busy}>${t('signIn')}</button>
    </form>
  </section>`;
}

/**
 * Which official account the screens work on: `default` (the worker's vars) or another account's
 * id; the list comes from GET /api/accounts when the token may read it (an admin's).
 */
function AccountPicker({ account, onPick }) {
  const [value, setValue] = useState(account);
  const [known, setKnown] = useState([]);
  useEffect(() => {
    api('GET', '/api/accounts').then((r) => setKnown(r.accounts), () => setKnown([]));
  }, []);
  // An id the worker does not list is refused here, not by every screen after the switch (a
  // token that may not list the accounts gets no list, and no such check).
  const unknown = known.length > 0 && value.trim() !== '' && !known.some((a) => a.id === value.trim());
  const submit = (e) => {
    e.preventDefault();
    if (value.trim() !== '' && !unknown) onPick(value.trim());
  };
  return html`<form class="account" onSubmit=${submit}>
    <label for="account">${t('accountLabel')}</label>
    <input id="account" list="account-list" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} autocomplete="off" spellcheck=${false} size="12"
      aria-invalid=${unknown ? 'true' : undefined} aria-describedby=${unknown ? 'account-unknown' : undefined} />
    ${unknown && html`<span id="account-unknown" class="account-unknown" role="status">${t('accountUnknown')}</span>`}
    <datalist id="account-list">${known.map((a) => html`<option value=${a.id}>${a.appId}</option>`)}</datalist>
    <button type="submit" disabled=${value.trim() === account || unknown}>${t('accountSwitch')}</button>
  </form>`;
}

const route = () => (location.hash.replace(/^#/, '') || '/compose').split('/').filter(Boolean);

function App() {
  const lang = useLang();
  const [signedIn, setSignedIn] = useState(getToken() !== '');
  const [notice, setNotice] = useState(null);
  const [path, setPath] = useState(route());
  const [account, pickAccount] = useState(getAccount());
  useEffect(() => {
    const onHash = () => setPath(route());
    addEventListener('hashchange', onHash);
    whenUnauthorized(() => {
      clearToken();
      setNotice(t('sessionEnded'));
      setSignedIn(false);
    });
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    document.title = t('title');
  }, [lang]);
  const go = (hash) => {
    location.hash = hash;
  };
  const signOut = () => {
    clearToken();
    setNotice(null);
    setSignedIn(false);
  };
  // Keyed by the account below: each screen is made afresh for another account.
  const switchAccount = (id) => {
    setAccount(id);
    pickAccount(id);
    // A job belongs to its account: from a job's page, go to the new account's list.
    if (path[0] === 'jobs' && path[1]) go('#/jobs');
  };
  let screen;
  if (!signedIn) screen = html`<${SignIn} notice=${notice} onSignedIn=${() => { setNotice(null); setSignedIn(true); }} />`;
  else if (path[0] === 'jobs' && path[1]) screen = html`<${JobPage} key=${path[1]} id=${decodeURIComponent(path[1])} />`;
  else if (path[0] === 'jobs') screen = html`<${JobList} />`;
  else if (path[0] === 'events') screen = html`<${Events} />`;
  else if (path[0] === 'status') screen = html`<${Status} />`;
  else screen = html`<${Compose} go=${go} />`;
  const nav = [['compose', 'navCompose'], ['jobs', 'navJobs'], ['events', 'navEvents'], ['status', 'navStatus']];
  return html`<header class="top">
      <a class="brand" href="#/compose">${t('title')}</a>
      ${signedIn && html`<nav aria-label=${t('title')}><ul>${nav.map(([p, k]) => html`<li><a href=${`#/${p}`} aria-current=${path[0] === p ? 'page' : undefined}>${t(k)}</a></li>`)}</ul></nav>`}
      <div class="tools">
        ${signedIn && html`<${AccountPicker} account=${account} onPick=${switchAccount} />`}
        <button type="button" id="lang" lang=${lang === 'zh' ? 'en' : 'zh-CN'} aria-label=${t('switchLangLabel')} onClick=${() => setLang(getLang() === 'zh' ? 'en' : 'zh')}>${t('switchLang')}</button>
        ${signedIn && html`<button type="button" id="sign-out" onClick=${signOut}>${t('signOut')}</button>`}
      </div>
    </header>
    <main id="main" key=${account}>${screen}</main>`;
}

setLang(getLang());
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
