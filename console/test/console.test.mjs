// The admin console as a person uses it: headless Chromium (Debian's, through playwright-core)
// on the console the worker serves under `wrangler dev`, against the WeChat simulator (the
// harness of tests/e2e). Each step leaves a screenshot in target/console-screenshots/. What the
// page shows is checked against what the worker stored (GET /api/jobs/{id}) and what reached
// WeChat (the simulator's calls, sends and duplicate counter).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startStack, startUpstream, driveJob, openids, ADMIN_TOKEN, ROOT } from '../../tests/e2e/harness.mjs';
import { signedPush } from '../../tests/e2e/push.mjs';
import { errorInfo } from 'wxmass';

const SHOTS = join(ROOT, 'target', 'console-screenshots');
const WAIT = { timeout: 30_000 };
let stack;
let browser;
// The account's own server behind the worker (FORWARD_URL): the events test makes it fail, so a
// user's message ends up forward_failed.
let upstream;
// A second official account on the same worker (data, its secrets sealed under the master key),
// served by the simulator as a second AppID.
const B = { id: 'shop', appId: 'wx00000000000000bb', appSecret: 'bbbbsecret-0123456789abcdef012345', callbackToken: 'bbbbCallbackTokenForAccountB', encodingAesKey: 'bbbbAccountBEncodingAESKey0123456789abcdefg' };

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  upstream = await startUpstream();
  [stack, browser] = await Promise.all([
    startStack({}, { vars: { FORWARD_URL: upstream.url, ACCOUNTS_MASTER_KEY: randomBytes(32).toString('base64') } }),
    chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
  await stack.simCtl('POST', 'config', {
    apps: [{ appId: B.appId, appSecret: B.appSecret, callbackUrl: `${stack.workerUrl}/wechat/callback/${B.id}`, callbackToken: B.callbackToken, encodingAESKey: B.encodingAesKey, ghId: 'gh_00000000000b' }],
  });
  const b = await stack.api('POST', '/api/accounts', { id: B.id, appId: B.appId, kind: 'service', apiBase: stack.sim.url, secrets: { appSecret: B.appSecret, callbackToken: B.callbackToken, encodingAesKey: B.encodingAesKey } });
  assert.equal(b.status, 201, b.text);
});
after(async () => {
  await browser?.close();
  await stack?.stop();
  await upstream?.close();
});

/** A fresh page (own sessionStorage) on the console; page errors and CSP reports fail the test. */
async function open(name, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (400|401|404|409|422)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  let n = 0;
  const shot = (step) => page.screenshot({ path: join(SHOTS, `${name}-${String(++n).padStart(2, '0')}-${step}.png`), fullPage: true });
  await page.goto(`${stack.workerUrl}/`);
  return { page, context, shot, problems };
}

async function signIn(page, token = ADMIN_TOKEN) {
  await page.getByLabel('管理令牌').fill(token);
  await page.getByRole('button', { name: '登录', exact: true }).click();
}

const text = (page, selector) => page.locator(selector).innerText();

// axe-core from the console's dev-dependencies, evaluated in the page through the DevTools
// protocol (a <script> tag would be refused by the page's CSP, rightly).
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.1 A/AA rules on the page as it is: no serious or critical violation. */
async function axe(page, where) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(violations, [], `axe on ${where}`);
}

// English words for a state or one of core's notes: the Chinese page shows none of them (codes in
// <code>, text marked lang="en" such as a worker's own message, and closed details aside).
// A batch's outcome as the worker words it in English (`accepted: msg_id …`, `no reply …`), the
// upload and library words, and a list's progress.
const ENGLISH = /\b(planned|pending|sending|submitted|finished|failed|partly_failed|cancelled|delivered|applied|ignored|stored|unreadable|forward_failed|send success|collecting|sealed|accepted|no reply|not recorded|Upload|library)\b|mass sends a day|Each follower|history list|China time/;
async function noEnglishStates(page, where) {
  const shown = await page.evaluate(() => {
    // A batch's outcome is the worker's text: it shows its Chinese twin, and English there is a miss.
    const hidden = [...document.querySelectorAll('[lang="en"]:not(.last-outcome *), code, pre, #lang')];
    const before = hidden.map((e) => e.style.display);
    for (const e of hidden) e.style.display = 'none';
    const all = document.body.innerText;
    hidden.forEach((e, i) => { e.style.display = before[i]; });
    return all;
  });
  const found = shown.match(ENGLISH);
  assert.equal(found, null, `${where} shows English: ${found && shown.slice(Math.max(0, found.index - 60), found.index + 60)}`);
}

/** No horizontal scrolling of the page itself (a table may scroll inside its own box). */
const noSideScroll = async (page, where) => assert.equal(
  await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, `${where} scrolls sideways at ${page.viewportSize().width} px`,
);

test('the journey: sign in, an mpnews with a bad field, fixed, 25,001 OpenIDs from a file, preview, send, cron, finished', async () => {
  const { page, context, shot, problems } = await open('journey');
  // The CSP comes with the page, as a header from the assets' _headers.
  const home = await fetch(`${stack.workerUrl}/`);
  assert.match(home.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
  await shot('sign-in');
  await signIn(page);
  await page.getByRole('heading', { name: '新建群发' }).waitFor(WAIT);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('wxmass.adminToken')), ADMIN_TOKEN);
  await shot('compose');

  // An mpnews written here: the cover is left blank (a bad field).
  await page.getByLabel('图文', { exact: true }).check();
  await page.getByLabel('标题', { exact: true }).fill('春季上新');
  await page.getByLabel('正文（HTML）').fill('<p>新品到店</p>');
  const thumb = page.getByLabel('封面 thumb_media_id');
  await thumb.fill(' ');
  await thumb.blur();
  const thumbError = page.locator('#f-articles-0-thumbmediaid-error');
  await thumbError.waitFor(WAIT);
  // Core gives each problem in Chinese too: the page, in Chinese, shows that text.
  // Label first, with what to do; the path and rule after it, small.
  assert.match(await thumbError.innerText(), /^请填写封面 thumb_media_id/);
  assert.match(await thumbError.innerText(), /articles\[0\]\.thumbMediaId · required/);
  assert.equal(await thumb.getAttribute('aria-invalid'), 'true');
  assert.match(await thumb.getAttribute('aria-describedby'), /f-articles-0-thumbmediaid-error/);
  assert.equal(await page.locator('#send').isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: '上传图文（uploadnews）' }).isDisabled(), true);
  assert.match(await text(page, '#problem-summary'), /articles\[0\]\.thumbMediaId/);
  await shot('bad-field');

  // Fixed: the problem leaves its field, the articles go up through uploadnews.
  await thumb.fill('sim-thumb-media-id-0001');
  await thumbError.waitFor({ state: 'detached', ...WAIT });
  await page.getByLabel('打开留言').check();
  // Go on when WeChat judges an article a reprint (send_ignore_reprint = 1).
  await page.getByLabel('文章被判定为转载时仍然继续群发（send_ignore_reprint = 1）').check();
  await page.getByRole('button', { name: '上传图文（uploadnews）' }).click();
  await page.locator('#news-media-id').waitFor(WAIT);
  const mediaId = await text(page, '#news-media-id');
  const news = (await stack.simCtl('GET', 'calls?path=/cgi-bin/media/uploadnews')).calls;
  assert.equal(news.length, 1);
  const article = JSON.parse(news[0].body).articles[0];
  assert.deepEqual([article.title, article.thumb_media_id, article.need_open_comment], ['春季上新', 'sim-thumb-media-id-0001', 1]);
  assert.equal(JSON.parse(news[0].reply).media_id, mediaId);
  await shot('articles-uploaded');

  // 25,001 OpenIDs from a file: the browser's plan, then the upload in parts and the seal.
  const list = openids(25_001, 'console');
  await page.getByLabel('OpenID 文件（.txt 或 .csv）').check();
  await page.getByLabel('OpenID 文件，每行一个（CSV 取第一列）').setInputFiles({ name: 'followers.txt', mimeType: 'text/plain', buffer: Buffer.from(`${list.join('\n')}\n`) });
  await page.locator('#count-batches').waitFor(WAIT);
  assert.equal(await text(page, '#count-valid'), '25,001');
  assert.equal(await text(page, '#count-invalid'), '0');
  assert.equal(await text(page, '#count-duplicates'), '0');
  assert.equal(await text(page, '#count-batches'), '3');
  await page.locator('#upload-status', { hasText: '已封存' }).waitFor(WAIT);
  assert.equal(await page.locator('#upload-progress').evaluate((p) => p.value === p.max && p.max === 25_001), true);
  assert.match(await text(page, '#upload-status'), /有效 25,001.*3 批/);
  await shot('audience');

  // The summary: recipients, batches, quota and the earliest start, before the button.
  await page.locator('#summary-recipients').waitFor(WAIT);
  assert.equal(await text(page, '#summary-recipients'), '25,001');
  assert.match(await text(page, '#summary-batches'), /^3/);
  assert.match(await text(page, '#summary-start'), /立即/);
  assert.match(await text(page, '#quota'), /service_sends_per_day[\s\S]*100/);
  // Core's notes in Chinese on the Chinese page.
  assert.match(await text(page, '#summary-notes'), /每天（北京时间，UTC\+8）可进行 100 次 API 群发/);
  assert.match(await text(page, '#note-reprint'), /^send_ignore_reprint = 1：/);
  const send = page.locator('#send');
  assert.equal(await send.innerText(), '发送给 25,001 位粉丝');
  // Not before a preview of this message (or the choice to skip it).
  assert.equal(await send.isDisabled(), true);
  assert.match(await text(page, '#send-disabled'), /请先发送预览/);
  await axe(page, 'summary');
  await shot('summary');

  // The draft survives a reload, the file and its sealed audience included.
  await page.reload();
  await page.locator('#count-valid', { hasText: '25,001' }).waitFor(WAIT);
  assert.equal(await page.getByLabel('标题', { exact: true }).inputValue(), '春季上新');
  assert.match(await text(page, '#upload-status'), /已封存/);
  assert.equal(await text(page, '#news-media-id'), mediaId);
  await shot('draft-after-reload');

  // A preview to a WeChat ID.
  await page.getByLabel('预览接收者').fill('wxmass-operator');
  await page.getByRole('button', { name: '发送预览' }).click();
  await page.locator('#preview-done').waitFor(WAIT);
  await page.locator('#send:not([disabled])').waitFor(WAIT);
  const previews = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/preview')).calls;
  assert.equal(previews.length, 1);
  assert.deepEqual(JSON.parse(previews[0].body), { towxname: 'wxmass-operator', mpnews: { media_id: mediaId }, msgtype: 'mpnews' });
  await shot('preview');

  // Send now: the confirmation names the count; nothing is created before it is confirmed.
  await send.click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor(WAIT);
  assert.match(await dialog.innerText(), /发送给 25,001 位粉丝[\s\S]*3 批/);
  // The last look: the message itself, the schedule by China day, and the quota it leaves.
  assert.match(await text(page, '#confirm-message'), /春季上新/);
  assert.match(await text(page, '#confirm-schedule'), /第 1–3 批/);
  assert.match(await text(page, '#confirm-quota'), /今天剩余 100 次，本次今天用 3 次，之后剩余 97 次/);
  assert.equal((await stack.api('GET', '/api/jobs')).json.jobs.length, 0);
  await axe(page, 'confirm');
  await shot('confirm');
  await dialog.getByRole('button', { name: '确认发送' }).click();
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  const jobId = page.url().split('/').pop();
  await page.getByRole('heading', { name: new RegExp(`任务 ${jobId}`) }).waitFor(WAIT);
  const created = (await stack.api('GET', `/api/jobs/${jobId}`)).json;
  assert.deepEqual([created.state, created.batches.length, created.summary.recipients], ['planned', 3, 25_001]);
  assert.deepEqual(created.message, { msgType: 'mpnews', mpnews: { mediaId } });
  await shot('job-planned');

  // The cron fires; the page follows the job to finished with the callbacks' counts. WeChat
  // judges the first send's article a reprint that may be reprinted: it goes out all the same.
  await stack.simCtl('POST', 'faults', { kind: 'reprint', canReprint: 1, path: '/cgi-bin/message/mass/send' });
  const job = await driveJob(stack, jobId);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches));
  await page.locator('h1 .badge', { hasText: '已完成' }).waitFor(WAIT);
  // What went out and to whom: the message as followers see it, the file by its name.
  assert.match(await text(page, '#job-message'), /春季上新/);
  assert.match(await text(page, '#job-audience'), /followers\.txt/);
  assert.match(await text(page, '#job-audience'), /25,001/);
  assert.notEqual(await text(page, '#job-started'), '尚未开始');
  await page.locator('#result-sent', { hasText: '25,001' }).waitFor(WAIT);
  assert.equal(await text(page, '#result-total'), '25,001');
  assert.equal(await text(page, '#result-events'), '3');
  const rows = page.locator('#batches tbody tr');
  assert.equal(await rows.count(), 3);
  for (const b of job.batches) {
    const row = await page.locator(`#batches tr[data-batch="${b.index}"]`).innerText();
    assert.ok(row.includes(b.msgId) && row.includes(b.clientMsgId) && row.includes('已完成'), row);
    assert.ok(row.includes(b.result.sentCount.toLocaleString('en-US')), row);
  }
  const bars = await page.locator('#result-chart rect.bar-sent').evaluateAll((rs) => rs.map((r) => Number(r.dataset.count)));
  assert.deepEqual(bars, job.batches.map((b) => b.result.sentCount));
  // Each article's originality check and URL, from the pushes.
  const urls = job.events.map((e) => e.payload.articleUrls[0].url);
  const shown = await page.locator('a.article-url').evaluateAll((as) => as.map((a) => a.href));
  assert.deepEqual(shown.sort(), urls.sort());
  assert.equal(await page.locator('.articles-result').count(), 3);
  const judged = job.events.map((e) => e.payload).filter((p) => p.copyrightCheck.items.length > 0);
  assert.equal(judged.length, 1);
  const item = judged[0].copyrightCheck.items[0];
  const checked = page.locator(`.articles-result[data-msg-id="${judged[0].msgId}"]`);
  assert.match(await checked.innerText(), new RegExp(`CheckState: ${judged[0].copyrightCheck.checkState}`));
  const cells = await checked.locator('tbody tr').first().locator('td').allInnerTexts();
  assert.deepEqual(cells.slice(0, 7), [item.articleIdx, item.userDeclareState, item.auditState, item.canReprint, item.needReplaceContent, item.needShowReprintSource, item.originalArticleUrl].map(String));
  // Judged a reprint and sent all the same (CheckState 2, not 3 and err(30003)): WeChat got the
  // console's send_ignore_reprint = 1.
  assert.deepEqual([judged[0].copyrightCheck.checkState, judged[0].status.wire], [2, 'send success']);
  const stats = await stack.simCtl('GET', 'stats');
  // 25,001 followers once each, and the preview to the WeChat ID.
  assert.deepEqual([stats.sends, stats.previews, stats.deliveries, stats.duplicateDeliveries], [3, 1, 25_002, 0]);
  await noEnglishStates(page, 'job page');
  await axe(page, 'job');
  await shot('job-finished');

  // Delete the article of the first batch's send, after a confirmation.
  await page.getByLabel('文章序号（article_idx，0 = 全部文章）').fill('1');
  await page.getByRole('button', { name: '删除', exact: true }).click();
  await dialog.waitFor(WAIT);
  assert.match(await dialog.innerText(), new RegExp(`${job.batches[0].msgId}[\\s\\S]*第 1 篇文章`));
  await shot('delete-confirm');
  await dialog.getByRole('button', { name: '确认删除' }).click();
  await page.locator('#delete-done').waitFor(WAIT);
  const deletes = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/delete')).calls;
  assert.equal(deletes.length, 1);
  assert.match(deletes[0].body, new RegExp(`"msg_id":${job.batches[0].msgId}\\b`));
  assert.match(deletes[0].body, /"article_idx":1\b/);
  assert.equal(deletes[0].errcode, 0);
  const sent = (await stack.simCtl('GET', 'jobs')).jobs.find((j) => j.msgId === job.batches[0].msgId);
  assert.deepEqual(sent.deletedArticles, [1]);
  await shot('deleted');

  // The jobs list links to it; the status page shows the ledger the sends made.
  await page.getByRole('link', { name: '群发任务' }).click();
  await page.getByRole('link', { name: jobId }).waitFor(WAIT);
  // The list tells sends apart: the message and the audience by name.
  const listed = page.locator('#jobs tbody tr').first();
  assert.match(await listed.innerText(), /图文 · 春季上新[\s\S]*followers\.txt[\s\S]*已完成/);
  await noEnglishStates(page, 'jobs list');
  await axe(page, 'jobs');
  await shot('jobs');
  await page.getByRole('link', { name: '状态与速度' }).click();
  await page.locator('#status-quota').waitFor(WAIT);
  await noEnglishStates(page, 'status');
  await axe(page, 'status');
  assert.match(await text(page, '#status-quota'), /service_sends_per_day[\s\S]*\b3\b[\s\S]*\b97\b/);
  assert.match(await text(page, '#token-age'), /已获取/);
  await shot('status');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a scheduled job, cancelled from its page after a confirmation, sends nothing', async () => {
  const { page, context, shot, problems } = await open('cancel');
  await signIn(page);
  await page.getByLabel('文本内容').fill('周末活动提醒');
  await page.getByLabel('一个标签').check();
  // The account's tags by name (GET /api/tags), not a bare number.
  await page.getByLabel('标签', { exact: true }).selectOption('2');
  await page.getByLabel('定时（北京时间）').check();
  const send = page.locator('#send');
  assert.equal(await send.isDisabled(), true, 'no date and time yet');
  await page.getByLabel('日期').fill('2030-03-07');
  await page.getByLabel('时间（北京时间）').fill('08:00');
  await page.locator('#summary-start', { hasText: '2030-03-07 08:00' }).waitFor(WAIT);
  assert.equal(await send.innerText(), '定时发送给标签「星标组」（2）的粉丝');
  await page.getByLabel('不预览，直接发送').check();
  await shot('scheduled');
  await send.click();
  await page.getByRole('dialog').getByRole('button', { name: '确认发送' }).click();
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  const jobId = page.url().split('/').pop();
  await page.locator('#job-send-at', { hasText: '2030-03-07 08:00' }).waitFor(WAIT);
  const stored = (await stack.api('GET', `/api/jobs/${jobId}`)).json;
  assert.equal(stored.sendAt, Date.UTC(2030, 2, 7, 0, 0, 0));
  assert.deepEqual(stored.audience, { tagId: 2 });
  await shot('job');

  await page.getByRole('button', { name: '取消未发送的批次' }).click();
  const dialog = page.getByRole('dialog');
  assert.match(await dialog.innerText(), new RegExp(`${jobId}[\\s\\S]*1 个批次`));
  await shot('cancel-confirm');
  // "Keep them" first: nothing changes.
  await dialog.getByRole('button', { name: '不取消' }).click();
  assert.equal((await stack.api('GET', `/api/jobs/${jobId}`)).json.state, 'planned');
  await page.getByRole('button', { name: '取消未发送的批次' }).click();
  await dialog.getByRole('button', { name: '确认取消' }).click();
  await page.locator('#cancel-done').waitFor(WAIT);
  await page.locator('h1 .badge', { hasText: '已取消' }).waitFor(WAIT);
  const job = (await stack.api('GET', `/api/jobs/${jobId}`)).json;
  assert.equal(job.state, 'cancelled');
  assert.deepEqual(job.batches.map((b) => b.state), ['cancelled']);
  await stack.cron();
  const sendalls = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/sendall')).calls;
  assert.equal(sendalls.length, 0);
  await shot('cancelled');

  // Half sent: batch 1 went out, WeChat was busy for batch 2. The cancel takes batch 2 and says,
  // in Chinese, why batch 1 stays.
  await stack.simCtl('POST', 'faults', { path: 'cgi-bin/message/mass/send', kind: 'errcode_-1', skip: 1, count: 1 });
  const ids = Array.from({ length: 10_001 }, (_, i) => `oHalfSent${String(i).padStart(19, '0')}`);
  const half = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: '发了一半' } }, audience: { openids: ids } });
  assert.equal(half.status, 201, half.text);
  await stack.cron();
  await stack.simCtl('DELETE', 'faults');
  await page.evaluate((id) => { location.hash = `#/jobs/${id}`; }, half.json.id);
  await page.getByRole('button', { name: '取消未发送的批次' }).click();
  await page.getByRole('dialog').getByRole('button', { name: '确认取消' }).click();
  const kept = page.locator('#cancel-kept li');
  await kept.first().waitFor(WAIT);
  assert.equal(await kept.count(), 1);
  const keptText = await kept.first().innerText();
  assert.match(keptText, /^第 1 批未取消：.*[\u4e00-\u9fff]/);
  assert.doesNotMatch(keptText, /[A-Za-z]{4,}/, keptText);
  await shot('cancel-half');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a start in the past is refused at its field; a send WeChat refuses as a reprint shows a red failed badge and the reason in words', async () => {
  const { page, context, shot, problems } = await open('reprint-refused');
  await signIn(page);
  await page.getByLabel('图文', { exact: true }).check();
  await page.getByLabel('标题', { exact: true }).fill('转载的文章');
  await page.getByLabel('正文（HTML）').fill('<p>别处的内容</p>');
  await page.getByLabel('封面 thumb_media_id').fill('sim-thumb-media-id-0001');
  // send_ignore_reprint stays 0: a reprint verdict stops the send.
  await page.getByRole('button', { name: '上传图文（uploadnews）' }).click();
  await page.locator('#news-media-id').waitFor(WAIT);
  await page.getByLabel('一个标签').check();
  await page.getByLabel('标签', { exact: true }).selectOption('2');

  // A year typed wrong: core refuses it at the field, in China time, and says how to send now.
  await page.getByLabel('定时（北京时间）').check();
  const date = page.getByLabel('日期');
  await date.fill('2020-03-07');
  await page.getByLabel('时间（北京时间）').fill('08:00');
  await date.blur();
  const dateError = page.locator('#f-sendat-error');
  await dateError.waitFor(WAIT);
  assert.match(await dateError.innerText(), /2020-03-07 08:00:00 北京时间（UTC\+8），比现在.*早一分钟以上/);
  assert.match(await dateError.innerText(), /in_the_past/);
  assert.equal(await page.locator('#send').isDisabled(), true);
  assert.match(await text(page, '#problem-summary'), /sendAt/);
  await shot('start-in-the-past');
  await page.getByLabel('立即发送').check();
  // The console asks for a preview first, or this box (since issue 26).
  await page.getByLabel('不预览，直接发送').check();

  const send = page.locator('#send');
  await page.locator('#summary-start').waitFor(WAIT);
  await send.click();
  await page.getByRole('dialog').getByRole('button', { name: '确认发送' }).click();
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  const jobId = page.url().split('/').pop();
  // WeChat judges the article a reprint, and the send was set to stop: err(30003), nothing sent.
  await stack.simCtl('POST', 'faults', { kind: 'reprint', canReprint: 0, path: '/cgi-bin/message/mass/sendall' });
  const job = await driveJob(stack, jobId);
  assert.equal(job.state, 'failed', JSON.stringify(job.batches));
  assert.equal(job.batches[0].result.status, 'err(30003)');
  // The badge says 失败 in Chinese (issue 26); its state is `failed`.
  const badge = page.locator('h1 .badge[data-state="failed"]', { hasText: '失败' });
  await badge.waitFor(WAIT);
  assert.equal(await badge.evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(253, 236, 234)', 'red, not green');
  const reason = page.locator('#job-reason');
  await reason.waitFor(WAIT);
  assert.match(await reason.innerText(), /原创校验被判定为转载文/);
  assert.match(await reason.innerText(), /sendIgnoreReprint/);
  assert.match(await text(page, '#batches tbody tr'), /未送达/);
  // WeChat ended the batch without delivering it: not a green 已完成 beside 未送达.
  const batchBadge = page.locator('#batches tbody tr .badge[data-state]').first();
  assert.equal(await batchBadge.getAttribute('data-state'), 'ended');
  assert.equal(await batchBadge.innerText(), '已结束');
  await shot('reprint-refused');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a wrong token is refused with a clear message and is not kept', async () => {
  const { page, context, shot, problems } = await open('wrong-token');
  await signIn(page, 'not-the-admin-token');
  const error = page.locator('#token-error');
  await error.waitFor(WAIT);
  assert.match(await error.innerText(), /令牌不正确.*401/);
  assert.equal(await page.getByLabel('管理令牌').getAttribute('aria-invalid'), 'true');
  // The focus stays in the field to fix.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'token');
  await axe(page, 'wrong token');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('wxmass.adminToken')), null);
  await shot('refused');
  // In English too.
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.getByLabel('Admin token').fill('still-wrong');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#token-error', { hasText: 'The worker refused this token (401)' }).waitFor(WAIT);
  await shot('refused-en');
  assert.deepEqual(problems, []);
  await context.close();
});

test('an OpenID file with bad lines: their line numbers, the duplicates, and the worker agrees', async () => {
  const { page, context, shot, problems } = await open('bad-lines');
  await signIn(page);
  await page.getByLabel('文本内容').fill('会员日');
  await page.getByLabel('OpenID 文件（.txt 或 .csv）').check();
  const good = openids(5, 'bad-lines');
  // A CSV with a header, a blank line, two bad OpenIDs and a duplicate.
  const lines = ['openid,name', `${good[0]},a`, `${good[1]},b`, '', `"${good[2]}",c`, 'oR5G-too-short,d', `${good[3]},e`, `${good[1]},dup`, `${good[4]},f`];
  await page.getByLabel('OpenID 文件，每行一个（CSV 取第一列）').setInputFiles({ name: 'members.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\r\n')) });
  await page.locator('#invalid-lines').waitFor(WAIT);
  assert.equal(await text(page, '#count-valid'), '5');
  assert.equal(await text(page, '#count-invalid'), '2');
  assert.equal(await text(page, '#count-duplicates'), '1');
  assert.equal(await text(page, '#count-batches'), '1');
  const shown = await page.locator('#invalid-lines li').allInnerTexts();
  assert.deepEqual(shown, ['第 1 行: openid', '第 6 行: oR5G-too-short']);
  await page.locator('#upload-status', { hasText: '已封存' }).waitFor(WAIT);
  const audienceId = (await text(page, '#upload-status')).match(/受众 ([0-9A-Za-z]+)/)[1];
  const sealed = (await stack.api('GET', `/api/audiences/${audienceId}`)).json;
  assert.deepEqual([sealed.valid, sealed.invalid, sealed.duplicates, sealed.batches], [5, 2, 1, 1]);
  await shot('lines');
  assert.deepEqual(problems, []);
  await context.close();
});

test('keyboard only: compose has a label on every control, a focus order that follows the page, and sends', async () => {
  const { page, context, shot, problems } = await open('keyboard');
  await page.getByLabel('管理令牌').focus();
  await page.keyboard.type(ADMIN_TOKEN);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: '新建群发' }).waitFor(WAIT);
  // After signing in the focus is on the screen's heading; Tab goes on into the form, Shift+Tab
  // back through the header. Every control that gets the focus has a label.
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const labelled = e.labels?.[0]?.innerText ?? e.getAttribute('aria-label') ?? (['BUTTON', 'A', 'H1'].includes(e.tagName) ? e.innerText : null);
    return { tag: e.tagName.toLowerCase(), name: labelled?.trim() ?? null, id: e.id };
  });
  assert.deepEqual(await focused(), { tag: 'h1', name: '新建群发', id: 'compose-title' });
  const walk = async (key) => {
    const seen = [];
    const keys = new Set();
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press(key);
      const el = await focused();
      // Until the heading again, or the page's end (past it the focus wraps round).
      const k = el && `${el.tag}#${el.id}#${el.name}`;
      if (el === null || el.tag === 'h1' || keys.has(k)) break;
      keys.add(k);
      seen.push(el);
      if (el.name === 'wxmass 群发控制台') break;
    }
    await page.locator('#compose-title').focus();
    return seen;
  };
  const forward = await walk('Tab');
  const back = await walk('Shift+Tab');
  for (const el of [...forward, ...back]) assert.ok(el.name, `focused ${JSON.stringify(el)} has no label`);
  const names = forward.map((e) => e.name);
  // One stop per radio group (its checked radio), disabled buttons left out, top to bottom.
  assert.deepEqual(names.slice(0, 7), ['文本', '文本内容', '全部粉丝（is_to_all）', '立即发送', '微信号（towxname）', '预览接收者', '不预览，直接发送'], names.join(' | '));
  assert.match(names[7], /^请填写文本内容 text\.content · required/);
  assert.equal(names[8], '丢弃草稿');
  assert.equal(forward.length, 9, names.join(' | '));
  assert.deepEqual(back.map((e) => e.name), ['退出', 'Switch to English', '公众号账号', '状态与速度', '推送', '群发任务', '新建群发', 'wxmass 群发控制台']);
  await shot('tab-order');

  // Compose and send with keys alone: arrows pick the kind, type the text, Enter confirms.
  await page.getByLabel('文本', { exact: true }).focus();
  await page.keyboard.press('ArrowRight'); // 图文
  assert.equal(await page.getByLabel('图文', { exact: true }).isChecked(), true);
  await page.keyboard.press('ArrowLeft'); // back to 文本
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'f-text-content');
  await page.keyboard.type('键盘发送');
  await page.keyboard.press('Tab'); // the audience radios: 全部粉丝
  await page.keyboard.press('ArrowRight'); // 一个标签
  await page.keyboard.press('Tab');
  // The tag is picked from the account's tags: none yet, and core's problem is in the summary.
  assert.deepEqual(await page.evaluate(() => [document.activeElement.id, document.activeElement.tagName]), ['f-filter-tagid', 'SELECT']);
  assert.match(await text(page, '#problem-summary'), /filter\.tagId/);
  // Down the list to tag 100 (星标组 (2) first).
  for (let i = 0; i < 4 && (await page.evaluate(() => document.activeElement.value)) !== '100'; i++) await page.keyboard.press('ArrowDown');
  assert.deepEqual(await page.evaluate(() => [document.activeElement.id, document.activeElement.value]), ['f-filter-tagid', '100']);
  await page.locator('#skip-preview').focus();
  await page.keyboard.press('Space');
  await page.locator('#send:not([disabled])').waitFor(WAIT);
  await page.locator('#send').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await dialog.waitFor(WAIT);
  // The focus starts on the safe choice; Escape goes back without sending.
  assert.equal(await page.evaluate(() => document.activeElement.innerText), '返回修改');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached', ...WAIT });
  // The focus goes back where it came from (on a busy machine a frame after the dialog leaves
  // the page: wait for it, then check).
  await page.waitForFunction(() => document.activeElement?.id === 'send', null, WAIT).catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement.id), 'send');
  await page.keyboard.press('Enter');
  await dialog.waitFor(WAIT);
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.innerText), '确认发送');
  await shot('confirm');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  const jobId = page.url().split('/').pop();
  const job = (await stack.api('GET', `/api/jobs/${jobId}`)).json;
  assert.deepEqual([job.audience, job.message], [{ tagId: 100 }, { msgType: 'text', text: { content: '键盘发送' } }]);
  await stack.api('POST', `/api/jobs/${jobId}/cancel`);
  await shot('sent');
  assert.deepEqual(problems, []);
  await context.close();
});

test('events mark unreadable and forward-failed pushes; speed is read and set through core\'s check; status counts them', async () => {
  const v = stack.vars;
  const xml = '<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>not-a-number-18</MsgID></xml>';
  const push = signedPush({ token: v.CALLBACK_TOKEN, encodingAESKey: v.ENCODING_AES_KEY, appId: v.APP_ID, xml, mode: 'safe', nowSec: stack.nowSec() });
  // The account's server takes the unreadable push (so it stays `unreadable`) and fails the
  // user's message (`forward_failed`).
  upstream.answer({ status: 200, body: 'success' });
  const answered = await stack.callback(push);
  assert.equal(answered.text, 'success', `${stack.workerUrl} ${stack.sim.url} ${upstream.url}`);
  upstream.answer({ status: 500, body: 'down' });
  // WeChat waits 5 s for an answer (the simulator's other durations run 100 times faster).
  const user = await stack.simCtl('POST', 'callbacks/push', { message: { msgType: 'text', content: '你好' }, timeoutMs: 5000 });
  assert.equal(user.status, 200, JSON.stringify(user));

  const { page, context, shot, problems } = await open('events');
  await signIn(page);
  await page.getByRole('link', { name: '推送' }).click();
  await page.locator('#events').waitFor(WAIT);
  const stored = (await stack.api('GET', '/api/events?limit=20')).json;
  assert.match(await page.locator('main').innerText(), new RegExp(`共 ${stored.total} 条`));
  const unreadable = page.locator('#events tr[data-state="unreadable"]');
  const failed = page.locator('#events tr[data-state="forward_failed"]');
  assert.equal(await unreadable.count(), 1);
  assert.equal(await failed.count(), 1);
  assert.match(await unreadable.innerText(), /⚠ 无法解析/);
  assert.match(await failed.innerText(), /⚠ 转发失败/);
  // The worker's reason in Chinese (its reasonZh twin) on the Chinese page.
  const reasons = Object.fromEntries(stored.events.filter((e) => e.reason).map((e) => [e.state, e.reasonZh]));
  assert.ok(reasons.unreadable && reasons.forward_failed, JSON.stringify(stored.events.map((e) => [e.state, e.reason, e.reasonZh])));
  assert.ok((await unreadable.innerText()).includes(reasons.unreadable), await unreadable.innerText());
  assert.ok((await failed.innerText()).includes(reasons.forward_failed), await failed.innerText());
  assert.equal(await page.locator('#events tr.marked').count(), 2);
  await noEnglishStates(page, 'events');
  await axe(page, 'events');
  await unreadable.getByText('原始 XML').click();
  assert.match(await unreadable.locator('pre').innerText(), /not-a-number-18/);
  await shot('all');
  await page.getByLabel('按状态筛选').selectOption('forward_failed');
  await page.locator('#events tbody tr').first().waitFor(WAIT);
  await page.waitForFunction(() => [...document.querySelectorAll('#events tbody tr')].every((r) => r.dataset.state === 'forward_failed'), null, WAIT);
  assert.equal(await page.locator('#events tbody tr').count(), 1);
  await shot('forward-failed');

  // Status and speed.
  await page.getByRole('link', { name: '状态与速度' }).click();
  await page.locator('#speed-now').waitFor(WAIT);
  const before = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/speed/get')).calls;
  assert.match(await text(page, '#speed-now'), new RegExp(`速度等级 ${JSON.parse(before.at(-1).reply).speed}`));
  assert.match(await text(page, '#status'), /转发失败的推送\s*1/);
  const speed = page.getByLabel('新的速度等级（speed）');
  await speed.fill('9');
  await page.locator('#f-speed-error').waitFor(WAIT);
  assert.match(await text(page, '#f-speed-error'), /^新的速度等级（speed）：须在 0 到 4 之间[\s\S]*speed · range/);
  assert.equal(await page.locator('#speed-set').isDisabled(), true);
  await shot('speed-bad');
  await speed.fill('3');
  await page.locator('#speed-set').click();
  await page.locator('#speed-now', { hasText: '速度等级 3' }).waitFor(WAIT);
  const sets = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/speed/set')).calls;
  assert.deepEqual(sets.map((c) => JSON.parse(c.body)), [{ speed: 3 }]);
  await shot('speed-set');
  assert.deepEqual(problems, []);
  await context.close();
});

test('another official account of the same worker: picked in the header, its audience, job and sends are its own', async () => {
  const { page, context, shot, problems } = await open('account');
  await signIn(page);
  await page.getByRole('heading', { name: '新建群发' }).waitFor(WAIT);
  // The admin token lists the accounts; pick the shop's.
  await page.locator('#account-list option').nth(1).waitFor({ state: 'attached', ...WAIT });
  assert.deepEqual(await page.locator('#account-list option').evaluateAll((os) => os.map((o) => o.value)), ['default', B.id]);
  await page.getByLabel('公众号账号').fill(B.id);
  await page.getByRole('button', { name: '切换' }).click();
  await page.getByRole('heading', { name: '新建群发' }).waitFor(WAIT);
  await page.getByLabel('文本内容').fill('分店开业');
  await page.getByLabel('OpenID 文件（.txt 或 .csv）').check();
  const list = openids(3, 'shop');
  await page.getByLabel('OpenID 文件，每行一个（CSV 取第一列）').setInputFiles({ name: 'shop.txt', mimeType: 'text/plain', buffer: Buffer.from(list.join('\n')) });
  await page.locator('#upload-status', { hasText: '已封存' }).waitFor(WAIT);
  await page.getByLabel('不预览，直接发送').check();
  const audienceId = (await text(page, '#upload-status')).match(/受众 ([0-9A-Za-z]+)/)[1];
  assert.equal((await stack.api('GET', `/api/accounts/${B.id}/audiences/${audienceId}`)).json.valid, 3);
  assert.equal((await stack.api('GET', `/api/audiences/${audienceId}`)).status, 404);
  await shot('compose');
  await page.locator('#send').click();
  await page.getByRole('dialog').getByRole('button', { name: '确认发送' }).click();
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  const jobId = page.url().split('/').pop();
  assert.equal((await stack.api('GET', `/api/jobs/${jobId}`)).status, 404);
  const job = await driveJob({ ...stack, api: (m, p, b, h) => stack.api(m, p.replace('/api/', `/api/accounts/${B.id}/`), b, h) }, jobId);
  assert.equal(job.state, 'finished');
  await page.locator('#result-sent', { hasText: '3' }).waitFor(WAIT);
  // WeChat got the send with the shop's token (its AppID).
  const sends = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/send')).calls.filter((c) => c.body.includes(list[0]));
  assert.deepEqual(sends.map((c) => c.appId), [B.appId]);
  await page.getByRole('link', { name: '状态与速度' }).click();
  await page.locator('#status-account', { hasText: B.appId }).waitFor(WAIT);
  assert.match(await text(page, '#status-quota'), /service_sends_per_day[\s\S]*\b1\b[\s\S]*\b99\b/);
  await shot('status');
  assert.deepEqual(problems, []);
  await context.close();
});

test('every kind composes and previews: text, mpnews by media_id, image, voice, mpvideo, wxcard with card_ext on the preview only', async () => {
  // The media WeChat would hold: an mpnews and an mpvideo uploaded through the worker.
  const news = (await stack.api('POST', '/api/media/uploadnews', { articles: [{ thumbMediaId: 'sim-thumb-media-id-0001', title: 't', content: 'c' }] })).json.mediaId;
  const video = (await stack.api('POST', '/api/media/uploadvideo', { mediaId: 'sim-video-media-id-0001', title: 'v', description: 'd' })).json.mediaId;
  const { page, context, shot, problems } = await open('kinds');
  await signIn(page);
  await page.getByLabel('OpenID（touser）').check();
  // Each kind is previewed, but Send waits for none here (the previews are checked one by one).
  await page.getByLabel('不预览，直接发送').check();
  const to = openids(1, 'kinds')[0];
  await page.getByLabel('预览接收者').fill(to);
  const kinds = [
    ['文本', async () => page.getByLabel('文本内容').fill('每种消息'), { text: { content: '每种消息' }, msgtype: 'text' }],
    ['图文', async () => {
      await page.getByLabel('已有的图文 media_id').check();
      await page.getByLabel('media_id', { exact: true }).fill(news);
    }, { mpnews: { media_id: news }, msgtype: 'mpnews' }],
    ['图片', async () => page.getByLabel('media_id', { exact: true }).fill('sim-image-media-id-0001'), { image: { media_id: 'sim-image-media-id-0001' }, msgtype: 'image' }],
    ['语音', async () => page.getByLabel('media_id', { exact: true }).fill('sim-voice-media-id-0001'), { voice: { media_id: 'sim-voice-media-id-0001' }, msgtype: 'voice' }],
    ['视频', async () => {
      await page.getByLabel('media_id', { exact: true }).fill(video);
      await page.getByLabel('视频标题（可选）').fill('新品视频');
    }, { mpvideo: { media_id: video, title: '新品视频' }, msgtype: 'mpvideo' }],
    ['卡券', async () => {
      await page.getByLabel('card_id', { exact: true }).fill('sim-card-id-0001');
      // card_ext must be a JSON object as a string: core says so at the field, and the preview waits.
      const ext = page.getByLabel('card_ext（仅预览，JSON 对象字符串）');
      await ext.fill('not json');
      await page.locator('#f-wxcard-cardext-error').waitFor(WAIT);
      assert.match(await text(page, '#f-wxcard-cardext-error'), /wxcard\.cardExt[\s\S]*json_object_string/);
      assert.equal(await page.getByRole('button', { name: '发送预览' }).isDisabled(), true);
      await shot('card-ext-bad');
      await ext.fill('{"code":"","openid":"","timestamp":"1","signature":"s"}');
    }, { touser: to, wxcard: { card_id: 'sim-card-id-0001', card_ext: '{"code":"","openid":"","timestamp":"1","signature":"s"}' }, msgtype: 'wxcard' }],
  ];
  for (const [label, fill, body] of kinds) {
    await page.getByLabel(label, { exact: true }).check();
    await fill();
    await page.locator('#send:not([disabled])').waitFor(WAIT);
    const before = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/preview')).calls.length;
    await page.getByRole('button', { name: '发送预览' }).click();
    await page.locator('#preview-done').waitFor(WAIT);
    const calls = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/preview')).calls;
    assert.equal(calls.length, before + 1, label);
    const sent = JSON.parse(calls.at(-1).body);
    assert.deepEqual(sent, { touser: to, ...body }, label);
    assert.equal(calls.at(-1).errcode, 0, `${label}: ${calls.at(-1).reply}`);
    await shot(body.msgtype);
  }
  // WeChat refuses an unknown media_id: the page shows core's text for the errcode, in each language.
  await page.getByLabel('图片', { exact: true }).check();
  await page.getByLabel('media_id', { exact: true }).fill('sim-image-media-id-9999');
  await page.getByRole('button', { name: '发送预览' }).click();
  const refused = page.locator('#preview .error-box');
  await refused.waitFor(WAIT);
  const known = errorInfo(40007);
  assert.match(await refused.innerText(), new RegExp(`微信返回错误码 40007：${known.zh}`));
  await shot('wechat-error');
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await refused.getByText(`WeChat answered errcode 40007: ${known.en}`).waitFor(WAIT);
  await page.getByRole('button', { name: '切换到中文' }).click();
  await page.getByLabel('卡券', { exact: true }).check();
  // The send itself carries no card_ext (WeChat takes it on the preview only).
  await page.locator('#send').click();
  await page.getByRole('dialog').getByRole('button', { name: '确认发送' }).click();
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  const job = (await stack.api('GET', `/api/jobs/${page.url().split('/').pop()}`)).json;
  assert.deepEqual(job.message, { msgType: 'wxcard', wxcard: { cardId: 'sim-card-id-0001' } });
  await stack.api('POST', `/api/jobs/${job.id}/cancel`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('every screen at 390 × 844 and at 1280 × 900: no sideways scrolling, no serious axe violation, a screenshot of each', async () => {
  // A job to look at: text to tag 2, created through the API.
  const made = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: '手机上看任务' } }, audience: { tagId: 2 }, sendAt: '2030-03-07T08:00:00+08:00' });
  assert.equal(made.status, 201, made.text);
  const jobId = made.json.id;
  for (const [size, viewport] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 900 }]]) {
    const { page, context, shot, problems } = await open(`screens-${size}`, viewport);
    await page.locator('#token').waitFor(WAIT);
    await noSideScroll(page, 'sign-in');
    await axe(page, `sign-in ${size}`);
    await shot('sign-in');
    await signIn(page);
    await page.getByRole('heading', { name: '新建群发' }).waitFor(WAIT);
    // The header's tools stay whole: 退出 is on the screen.
    const out = await page.getByRole('button', { name: '退出' }).boundingBox();
    assert.ok(out.x >= 0 && out.x + out.width <= viewport.width, JSON.stringify(out));
    const screens = [
      ['compose', '#/compose', '#compose-title'],
      ['jobs', '#/jobs', '#jobs'],
      ['job', `#/jobs/${jobId}`, '#job-message'],
      ['events', '#/events', '#events-title'],
      ['status', '#/status', '#status-quota'],
    ];
    for (const [name, hash, ready] of screens) {
      await page.evaluate((h) => { location.hash = h; }, hash);
      await page.locator(ready).waitFor(WAIT);
      await noSideScroll(page, name);
      await axe(page, `${name} ${size}`);
      await noEnglishStates(page, `${name} ${size}`);
      await shot(name);
    }
    // Session 31's compose screens: an image with its upload and the library open, and the
    // audience from a tag's followers as a list.
    await serveWechatImages(context);
    await page.evaluate(() => { location.hash = '#/compose'; });
    await page.getByLabel('语音', { exact: true }).check();
    await page.getByRole('button', { name: '从素材库选择' }).click();
    await page.locator('.library .hint, .library p:not([role="status"])').first().waitFor(WAIT);
    for (const [name, where] of [['compose-voice-library', 'the voice library']]) {
      await noSideScroll(page, where);
      await axe(page, `${where} ${size}`);
      await noEnglishStates(page, `${where} ${size}`);
      await shot(name);
    }
    await page.getByLabel('文本', { exact: true }).check();
    await page.getByLabel('标签粉丝（作为 OpenID 名单）').check();
    await page.locator('#f-source-tagid option[value="2"]').waitFor({ state: 'attached', ...WAIT });
    await noSideScroll(page, 'a list from a tag');
    await axe(page, `a list from a tag ${size}`);
    await noEnglishStates(page, `a list from a tag ${size}`);
    await shot('compose-tag-list');
    await page.getByLabel('全部粉丝（is_to_all）').check();

    // Compose with a problem shown, and its confirm dialog.
    await page.evaluate(() => { location.hash = '#/compose'; });
    await page.getByLabel('文本内容').fill('手机上发送');
    await page.getByLabel('文本内容').fill('');
    await page.getByLabel('文本内容').blur();
    await page.locator('#f-text-content-error').waitFor(WAIT);
    await noSideScroll(page, 'compose with a problem');
    await axe(page, `compose with a problem ${size}`);
    await shot('compose-problem');
    await page.getByLabel('文本内容').fill('手机上发送');
    await page.getByLabel('不预览，直接发送').check();
    await page.locator('#send:not([disabled])').waitFor(WAIT);
    await page.locator('#send').click();
    await page.getByRole('dialog').waitFor(WAIT);
    await noSideScroll(page, 'confirm');
    await axe(page, `confirm ${size}`);
    await shot('confirm');
    await page.getByRole('button', { name: '返回修改' }).click();
    await page.getByRole('button', { name: '丢弃草稿' }).click();
    assert.deepEqual(problems, []);
    await context.close();
  }
  await stack.api('POST', `/api/jobs/${jobId}/cancel`);
});

test('a 1,000,000-line OpenID file is read, checked and planned off the main thread: typing the message meanwhile leaves no task over 100 ms', async () => {
  const { page, context, shot, problems } = await open('million');
  await signIn(page);
  await page.getByRole('heading', { name: '新建群发' }).waitFor(WAIT);
  await page.getByLabel('OpenID 文件（.txt 或 .csv）').check();
  // From disk, not a buffer: Playwright hands a path to Chromium as it is, where a buffer would
  // be decoded by script on the page's own main thread (a long task that is the test's, not ours).
  const path = join(ROOT, 'target', 'console-million.txt');
  writeFileSync(path, `${openids(1_000_000, 'million').join('\n')}\n`);
  // Registered before the file is chosen: reading, checking, planning and uploading all count.
  await page.evaluate(() => {
    window.longestTask = 0;
    new PerformanceObserver((list) => {
      for (const task of list.getEntries()) window.longestTask = Math.max(window.longestTask, task.duration);
    }).observe({ type: 'longtask' });
  });
  await page.getByLabel('OpenID 文件，每行一个（CSV 取第一列）').setInputFiles(path);
  const message = '一百万位粉丝的通知：本周六店庆，全场八折，欢迎光临，先到先得';
  assert.equal(message.length, 30);
  await page.getByLabel('文本内容').pressSequentially(message);
  await page.locator('#count-batches', { hasText: '100' }).waitFor({ timeout: 120_000 });
  assert.equal(await text(page, '#count-valid'), '1,000,000');
  assert.equal(await text(page, '#count-invalid'), '0');
  assert.equal(await text(page, '#count-duplicates'), '0');
  await page.locator('#upload-status', { hasText: '已封存' }).waitFor({ timeout: 120_000 });
  assert.match(await text(page, '#upload-status'), /有效 1,000,000.*100 批/);
  await page.locator('#summary-recipients', { hasText: '1,000,000' }).waitFor(WAIT);
  assert.match(await text(page, '#summary-batches'), /^100/);
  assert.equal(await page.getByLabel('文本内容').inputValue(), message);
  const longest = await page.evaluate(() => window.longestTask);
  console.log(`the longest main-thread task with 1,000,000 OpenIDs: ${Math.round(longest)} ms`);
  assert.ok(longest < 100, `a main-thread task took ${Math.round(longest)} ms`);
  await shot('planned');
  await page.getByRole('button', { name: '丢弃草稿' }).click();
  rmSync(path, { force: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('the video composer makes the send\'s media_id through uploadvideo, and a preview of it passes', async () => {
  const { page, context, shot, problems } = await open('uploadvideo');
  await signIn(page);
  await page.getByLabel('视频', { exact: true }).check();
  await page.getByLabel('视频素材的 media_id').fill('sim-video-media-id-0001');
  await page.getByLabel('生成用的视频标题').fill('新品视频');
  await page.getByLabel('生成用的视频描述').fill('三十秒看完新品');
  await page.getByRole('button', { name: '生成（uploadvideo）' }).click();
  await page.locator('#video-made').waitFor(WAIT);
  const calls = (await stack.simCtl('GET', 'calls?path=/cgi-bin/media/uploadvideo')).calls;
  const made = JSON.parse(calls.at(-1).reply).media_id;
  assert.deepEqual(JSON.parse(calls.at(-1).body), { media_id: 'sim-video-media-id-0001', title: '新品视频', description: '三十秒看完新品' });
  assert.equal(await text(page, '#video-made code'), made);
  // The send's own field now holds the media_id WeChat made, and the title and description go with it.
  assert.equal(await page.getByLabel('media_id', { exact: true }).inputValue(), made);
  assert.equal(await page.getByLabel('视频标题（可选）').inputValue(), '新品视频');
  await shot('made');
  const to = openids(1, 'uploadvideo')[0];
  await page.getByLabel('OpenID（touser）').check();
  await page.getByLabel('预览接收者').fill(to);
  await page.getByRole('button', { name: '发送预览' }).click();
  await page.locator('#preview-done').waitFor(WAIT);
  const preview = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/preview')).calls.at(-1);
  assert.deepEqual(JSON.parse(preview.body), { touser: to, mpvideo: { media_id: made, title: '新品视频', description: '三十秒看完新品' }, msgtype: 'mpvideo' });
  assert.equal(preview.errcode, 0, preview.reply);
  await shot('previewed');
  await page.getByRole('button', { name: '丢弃草稿' }).click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('an applied push in the events list links to its job\'s page', async () => {
  const made = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: '推送链接到任务' } }, audience: { tagId: 2 } });
  assert.equal(made.status, 201, made.text);
  const jobId = made.json.id;
  const job = await driveJob(stack, jobId);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches));
  const { page, context, shot, problems } = await open('event-link');
  await signIn(page);
  await page.getByRole('link', { name: '推送' }).click();
  const link = page.getByRole('link', { name: `任务 ${jobId} 的第 1 批` });
  await link.waitFor(WAIT);
  assert.equal(await link.getAttribute('href'), `#/jobs/${jobId}`);
  await shot('events');
  await link.click();
  await page.getByRole('heading', { name: new RegExp(`任务 ${jobId}`) }).waitFor(WAIT);
  assert.match(await text(page, '#job-message'), /推送链接到任务/);
  await shot('job');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the articles editor: an edit after the upload asks for it again and clears the media_id; no ninth article', async () => {
  const { page, context, shot, problems } = await open('articles');
  await signIn(page);
  await page.getByLabel('图文', { exact: true }).check();
  await page.getByLabel('标题', { exact: true }).fill('上传后再改');
  await page.getByLabel('正文（HTML）').fill('<p>第一版</p>');
  await page.getByLabel('封面 thumb_media_id').fill('sim-thumb-media-id-0001');
  await page.getByRole('button', { name: '上传图文（uploadnews）' }).click();
  await page.locator('#news-media-id').waitFor(WAIT);
  await page.getByLabel('不预览，直接发送').check();
  await page.locator('#send:not([disabled])').waitFor(WAIT);
  // The uploaded articles are no longer these: upload again, and nothing is sent meanwhile.
  await page.getByLabel('正文（HTML）').fill('<p>第二版</p>');
  await page.locator('#news-stale').waitFor(WAIT);
  assert.equal(await text(page, '#news-stale'), '文章改动后需要重新上传。');
  assert.equal(await page.locator('#news-media-id').count(), 0);
  assert.equal(await page.locator('#send').isDisabled(), true);
  assert.match(await text(page, '#problem-summary'), /mpnews\.mediaId/);
  await shot('stale');

  // Core says how many articles uploadnews takes: at 8 the button is disabled and says why.
  const add = page.getByRole('button', { name: '添加一篇文章' });
  for (let n = 1; n < 8; n++) await add.click();
  assert.equal(await page.locator('fieldset.article').count(), 8);
  assert.equal(await add.isDisabled(), true);
  await page.getByText('已有 8 篇，不能再添加。').waitFor(WAIT);
  await shot('eight');
  await page.getByRole('button', { name: '丢弃草稿' }).click();
  assert.deepEqual(problems, []);
  await context.close();
});

test('the account picker refuses an account the worker does not have', async () => {
  const { page, context, shot, problems } = await open('account-unknown');
  await signIn(page);
  await page.getByRole('heading', { name: '新建群发' }).waitFor(WAIT);
  await page.locator('#account-list option').nth(1).waitFor({ state: 'attached', ...WAIT });
  const account = page.getByLabel('公众号账号');
  await account.fill('nosuch');
  await page.locator('#account-unknown').waitFor(WAIT);
  assert.equal(await text(page, '#account-unknown'), '没有这个账号');
  assert.equal(await account.getAttribute('aria-invalid'), 'true');
  assert.equal(await account.getAttribute('aria-describedby'), 'account-unknown');
  assert.equal(await page.getByRole('button', { name: '切换' }).isDisabled(), true);
  await account.press('Enter');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('wxmass.account') ?? 'default'), 'default');
  await shot('refused');
  // A known one is taken.
  await account.fill(B.id);
  await page.locator('#account-unknown').waitFor({ state: 'detached', ...WAIT });
  assert.equal(await page.getByRole('button', { name: '切换' }).isDisabled(), false);
  assert.deepEqual(problems, []);
  await context.close();
});

// ---- session 31: media, tags, lists the worker collects, the job page's who and what -----------

// A 1×1 PNG: core and the simulator read its format from these bytes.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/**
 * WeChat's image host (the simulator's urls name mmbiz.qpic.cn) answered by the test with the PNG,
 * recording each request's Referer: the page must send none (referrerpolicy="no-referrer").
 */
async function serveWechatImages(context) {
  const seen = [];
  await context.route(/^https?:\/\/mmbiz\.qpic\.cn\//, (route) => {
    seen.push({ url: route.request().url(), referer: route.request().headers().referer ?? null });
    route.fulfill({ status: 200, contentType: 'image/png', body: PNG });
  });
  return seen;
}

test('a cover uploaded on the compose page, an article with it previewed and sent without leaving the page; the job page shows the title, the cover by its url and who created it', async () => {
  const { page, context, shot, problems } = await open('cover');
  const images = await serveWechatImages(context);
  await signIn(page);
  await page.getByRole('heading', { name: '新建群发' }).waitFor(WAIT);
  await page.getByLabel('图文', { exact: true }).check();
  await page.getByLabel('标题', { exact: true }).fill('带封面的文章');
  await page.getByLabel('正文（HTML）').fill('<p>封面是这里上传的</p>');
  const addCalls = async () => (await stack.simCtl('GET', 'calls?path=/cgi-bin/material/add_material')).calls;
  const before = (await addCalls()).length;

  // Not an image: core refuses it in the browser, in Chinese, and nothing is uploaded.
  const upload = page.getByLabel('上传封面图片');
  await upload.setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: Buffer.from('this is not a picture') });
  const refused = page.locator('#f-articles-0-thumbmediaid-upload-error');
  await refused.waitFor(WAIT);
  assert.match(await refused.innerText(), /^上传封面图片：.*[\u4e00-\u9fff][\s\S]*· media_format/);
  assert.equal((await addCalls()).length, before);
  await shot('cover-refused');

  // A PNG: permanent material (add_material), its url shown (no Referer sent), its id in the field.
  await upload.setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: PNG });
  await page.locator('.media-made').waitFor(WAIT);
  const calls = await addCalls();
  assert.equal(calls.length, before + 1);
  const made = JSON.parse(calls.at(-1).reply);
  assert.match(made.url, /^http:\/\/mmbiz\.qpic\.cn\//);
  assert.equal(await text(page, '.media-made'), made.media_id);
  assert.equal(await page.getByLabel('封面 thumb_media_id').inputValue(), made.media_id);
  // WeChat read a PNG from the bytes it got (its url says the format it found), as type image.
  assert.match(made.url, /wx_fmt=png$/);
  assert.equal(calls.at(-1).query.type, 'image');
  const preview = page.locator('img.cover-preview');
  await preview.waitFor(WAIT);
  assert.equal(await preview.getAttribute('src'), made.url);
  assert.equal(await preview.getAttribute('referrerpolicy'), 'no-referrer');
  await shot('cover-uploaded');

  // The library lists it, with its thumbnail (the worker's list has it too).
  const listed = (await stack.api('GET', '/api/material?type=image&offset=0&count=20')).json;
  assert.ok(listed.items.some((i) => i.mediaId === made.media_id && i.url === made.url && i.name === 'cover.png'), JSON.stringify(listed));
  await page.getByRole('button', { name: '从素材库选择' }).click();
  const pick = page.getByRole('button', { name: 'cover.png' }).first();
  await pick.waitFor(WAIT);
  assert.equal(await pick.locator('img').getAttribute('src'), made.url);
  await noSideScroll(page, 'library');
  await axe(page, 'library');
  await noEnglishStates(page, 'library');
  await shot('library');
  await pick.click();

  await page.getByRole('button', { name: '上传图文（uploadnews）' }).click();
  await page.locator('#news-media-id').waitFor(WAIT);
  const news = (await stack.simCtl('GET', 'calls?path=/cgi-bin/media/uploadnews')).calls.at(-1);
  assert.equal(JSON.parse(news.body).articles[0].thumb_media_id, made.media_id);
  await page.getByLabel('一个标签').check();
  await page.getByLabel('标签', { exact: true }).selectOption('2');
  await page.getByLabel('预览接收者').fill('wxmass-cover');
  await page.getByRole('button', { name: '发送预览' }).click();
  await page.locator('#preview-done').waitFor(WAIT);
  assert.match(page.url(), /#\/compose$|\/$/, 'still on the compose page');
  await page.locator('#send:not([disabled])').click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor(WAIT);
  assert.equal(await dialog.locator('img.cover').getAttribute('src'), made.url);
  await shot('confirm');
  await dialog.getByRole('button', { name: '确认发送' }).click();
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  const jobId = page.url().split('/').pop();
  const stored = (await stack.api('GET', `/api/jobs/${jobId}`)).json;
  assert.equal(stored.media?.articles?.[0]?.thumbUrl, made.url, JSON.stringify(stored.media));
  assert.deepEqual(stored.createdBy, { tokenId: null, label: 'ADMIN_TOKEN', role: 'admin' });
  // What went out, with its cover by url, and by whom.
  await page.locator('#job-message', { hasText: '带封面的文章' }).waitFor(WAIT);
  const cover = page.locator('#job-message img.cover');
  assert.equal(await cover.getAttribute('src'), made.url);
  assert.equal(await cover.getAttribute('referrerpolicy'), 'no-referrer');
  await page.waitForFunction(() => document.querySelector('#job-message img.cover')?.naturalWidth > 0, null, WAIT);
  assert.equal(await text(page, '#job-created-by'), '部署的 ADMIN_TOKEN（管理员）');
  assert.ok(images.length > 0 && images.every((r) => r.referer === null), JSON.stringify(images));
  await noEnglishStates(page, 'job with a cover');
  await axe(page, 'job with a cover');
  await shot('job');
  await stack.api('POST', `/api/jobs/${jobId}/cancel`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the tag picker lists the account\'s tags by name with their follower counts', async () => {
  const { page, context, shot, problems } = await open('tags');
  await signIn(page);
  await page.getByLabel('一个标签').check();
  const select = page.getByLabel('标签', { exact: true });
  await page.locator('#f-filter-tagid option[value="2"]').waitFor({ state: 'attached', ...WAIT });
  const sim = await stack.simCtl('GET', 'followers');
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
  const expected = Object.entries(sim.tags).map(([id, list]) => [id, `${id === '2' ? '星标组' : `tag ${id}`}（ID ${id}，${list.length.toLocaleString('en-US')} 位粉丝）`]);
  assert.deepEqual(options, [['', '请选择标签'], ...expected]);
  await noSideScroll(page, 'tag picker');
  await axe(page, 'tag picker');
  await shot('picker');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the followers of a tag as an OpenID list: collected by the cron with its progress shown, sealed, then sent to once each', async () => {
  const { page, context, shot, problems } = await open('tag-list');
  await signIn(page);
  await page.getByLabel('文本内容').fill('标签名单群发');
  await page.getByLabel('标签粉丝（作为 OpenID 名单）').check();
  await page.getByLabel('标签', { exact: true }).selectOption('100');
  await page.getByRole('button', { name: '收集这个标签的粉丝名单' }).click();
  const status = page.locator('#list-status');
  await status.waitFor(WAIT);
  const audienceId = await text(page, '#list-audience code');
  const created = (await stack.api('GET', `/api/audiences/${audienceId}`)).json;
  assert.deepEqual([created.source, created.state], [{ tagId: 100 }, 'collecting']);
  assert.match(created.name, /标签「tag 100」的粉丝/);
  // Until it is sealed it cannot be sent: the page says so, and the worker answers 409.
  assert.equal(await page.locator('#send').isDisabled(), true);
  assert.match(await text(page, '#problem-summary'), /名单还在收集中/);
  const early = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: 'x' } }, audience: { audienceId } });
  assert.equal(early.status, 409, early.text);
  await noEnglishStates(page, 'list collecting');
  await shot('collecting');
  for (let i = 0; i < 10 && (await stack.api('GET', `/api/audiences/${audienceId}`)).json.state !== 'sealed'; i++) await stack.cron();
  await page.locator('#list-status[data-state="sealed"]').waitFor(WAIT);
  const sealed = (await stack.api('GET', `/api/audiences/${audienceId}`)).json;
  const tag = (await stack.simCtl('GET', 'followers')).tags['100'];
  assert.equal(sealed.valid, tag.length);
  assert.match(await status.innerText(), new RegExp(`名单已封存：有效 ${tag.length}，1 批`));
  assert.equal(await page.locator('#list-progress').evaluate((p) => p.value === p.max), true);
  await page.getByLabel('不预览，直接发送').check();
  const send = page.locator('#send:not([disabled])');
  await send.waitFor(WAIT);
  assert.equal(await send.innerText(), `发送给 ${tag.length} 位粉丝`);
  await axe(page, 'list sealed');
  await shot('sealed');
  await send.click();
  await page.getByRole('dialog').getByRole('button', { name: '确认发送' }).click();
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  const jobId = page.url().split('/').pop();
  const job = await driveJob(stack, jobId);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches));
  assert.equal(job.audience.audienceId, audienceId);
  // Each follower of the tag once, nobody else.
  const sends = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/send')).calls.filter((c) => c.body.includes('标签名单群发'));
  assert.deepEqual(sends.flatMap((c) => JSON.parse(c.body).touser).sort(), [...tag].sort());
  assert.equal((await stack.simCtl('GET', 'stats')).duplicateDeliveries, 0);
  await page.locator('#job-audience', { hasText: '来自标签 100' }).waitFor(WAIT);
  assert.match(await text(page, '#job-audience'), /标签「tag 100」的粉丝/);
  await noEnglishStates(page, 'job to a list');
  await shot('job');
  assert.deepEqual(problems, []);
  await context.close();
});

test('English counts are right for one and for many', async () => {
  const { page, context, shot, problems } = await open('plurals');
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Compose a mass send' }).waitFor(WAIT);
  const message = page.getByRole('textbox', { name: 'Text', exact: true });
  await message.fill('A');
  await page.getByText('1 character', { exact: true }).waitFor(WAIT);
  await message.fill('AB');
  await page.getByText('2 characters', { exact: true }).waitFor(WAIT);
  await page.getByLabel('An OpenID file (.txt or .csv)').check();
  const file = page.getByLabel('OpenID file, one a line (CSV: the first column)');
  const [one, two] = [openids(1, 'plural-1'), openids(2, 'plural-2')];
  await file.setInputFiles({ name: 'one.txt', mimeType: 'text/plain', buffer: Buffer.from(one.join('\n')) });
  await page.locator('#file-report', { hasText: 'Read one.txt: 1 line, 1 entry' }).waitFor(WAIT);
  const wrongOne = /(?<![\d,.])1 (problems|lines|entries|followers|batches|characters|OpenIDs|articles|pushes|pages|duplicates|sendall calls|send calls)\b/;
  const wrongMany = /(?<![\d,.])(?:[02-9]|\d{2,}) (problem|line|entry|follower|batch|character|OpenID|article|push|page|duplicate)\b(?!s)/;
  const check = async (where) => {
    const body = await page.evaluate(() => document.body.innerText);
    assert.equal(body.match(wrongOne), null, `${where}: ${body.match(wrongOne)?.[0]}`);
    assert.equal(body.match(wrongMany), null, `${where}: ${body.match(wrongMany)?.[0]}`);
  };
  await check('a one-line file');
  await shot('one');
  await file.setInputFiles({ name: 'two.txt', mimeType: 'text/plain', buffer: Buffer.from(two.join('\n')) });
  await page.locator('#upload-status', { hasText: 'sealed' }).waitFor(WAIT);
  await page.locator('#file-report', { hasText: 'Read two.txt: 2 lines, 2 entries' }).waitFor(WAIT);
  assert.match(await text(page, '#upload-status'), /2 valid, 0 duplicates, 0 invalid, 1 batch\b/);
  await page.getByLabel('Send without a preview').check();
  await page.locator('#send', { hasText: 'Send to 2 followers' }).waitFor(WAIT);
  await check('a two-line file');
  await page.locator('#send').click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(/^1 batch · Starts: /).waitFor(WAIT);
  await check('the confirmation');
  await shot('confirm');
  await dialog.getByRole('button', { name: 'Yes, send' }).click();
  await page.waitForURL(/#\/jobs\/j/, WAIT);
  await page.getByRole('button', { name: 'Cancel the batches not sent yet' }).click();
  await dialog.getByText(/Cancel the 1 batch of job \S+ that is not sent yet\?/).waitFor(WAIT);
  await check('the cancel confirmation');
  await dialog.getByRole('button', { name: 'Yes, cancel them' }).click();
  await page.locator('#cancel-done', { hasText: '1 batch cancelled.' }).waitFor(WAIT);
  await check('the job page');
  await shot('cancelled');
  await page.evaluate(() => localStorage.setItem('wxmass.lang', 'zh'));
  assert.deepEqual(problems, []);
  await context.close();
});

test('temporary media that will have expired when a scheduled job starts: the worker\'s 422 media_expired shows at the media_id field in Chinese, and no job is stored', async () => {
  const { page, context, shot, problems } = await open('media-expired');
  await signIn(page);
  await page.getByLabel('语音', { exact: true }).check();
  // An AMR voice: temporary media (media/upload), which WeChat keeps 3 days.
  const amr = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(64, 0x3c)]);
  await page.getByLabel('上传语音').setInputFiles({ name: 'hello.amr', mimeType: 'audio/amr', buffer: amr });
  await page.locator('.media-made').waitFor(WAIT);
  const upload = (await stack.simCtl('GET', 'calls?path=/cgi-bin/media/upload')).calls.at(-1);
  const mediaId = JSON.parse(upload.reply).media_id;
  assert.equal(upload.query.type, 'voice');
  assert.equal(await page.getByLabel('media_id', { exact: true }).inputValue(), mediaId);
  await page.getByLabel('定时（北京时间）').check();
  await page.getByLabel('日期').fill('2030-03-07');
  await page.getByLabel('时间（北京时间）').fill('08:00');
  await page.getByLabel('不预览，直接发送').check();
  const jobsBefore = (await stack.api('GET', '/api/jobs?limit=100')).json.jobs.length;
  await page.locator('#send:not([disabled])').click();
  await page.getByRole('dialog').getByRole('button', { name: '确认发送' }).click();
  const error = page.locator('#f-voice-mediaid-error');
  await error.waitFor(WAIT);
  assert.match(await error.innerText(), /临时素材，微信只保存 3 天[\s\S]*media_expired/);
  assert.equal(await page.getByLabel('media_id', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('#send').isDisabled(), true);
  assert.equal((await stack.api('GET', '/api/jobs?limit=100')).json.jobs.length, jobsBefore);
  await noEnglishStates(page, 'media expired');
  await axe(page, 'media expired');
  await shot('refused');
  await page.getByRole('button', { name: '丢弃草稿' }).click();
  assert.deepEqual(problems, []);
  await context.close();
});
