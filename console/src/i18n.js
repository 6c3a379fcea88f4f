// The console's own words, Chinese first, English second. Core's words (problems, notes, WeChat
// error texts) are never restated here: they are shown as core gives them.
import { useEffect, useState } from 'preact/hooks';

const KEY = 'wxmass.lang';
let lang = localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';
const listeners = new Set();

export const getLang = () => lang;

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const f of listeners) f(lang);
}

/** Re-renders the calling component when the language changes. */
export function useLang() {
  const [, set] = useState(lang);
  useEffect(() => {
    listeners.add(set);
    return () => listeners.delete(set);
  }, []);
  return lang;
}

const S = {
  title: ['wxmass 群发控制台', 'wxmass mass-send console'],
  switchLang: ['English', '中文'],
  switchLangLabel: ['Switch to English', '切换到中文'],
  signOut: ['退出', 'Sign out'],
  accountLabel: ['公众号账号', 'Account'],
  accountSwitch: ['切换', 'Switch'],
  navCompose: ['新建群发', 'Compose'],
  navJobs: ['群发任务', 'Jobs'],
  navEvents: ['推送', 'Events'],
  navStatus: ['状态与速度', 'Status and speed'],
  loading: ['加载中…', 'Loading…'],
  wasmLoading: ['正在加载校验模块(WebAssembly)…', 'Loading the checker (WebAssembly)…'],

  signInTitle: ['登录', 'Sign in'],
  signInHint: ['输入 worker 的管理令牌(ADMIN_TOKEN)。它只保存在本标签页的 sessionStorage 中。', "Enter the worker's admin token (ADMIN_TOKEN). It is kept in this tab's sessionStorage only."],
  tokenLabel: ['管理令牌', 'Admin token'],
  signIn: ['登录', 'Sign in'],
  wrongToken: ['令牌不正确:worker 拒绝了它(401)。请检查 ADMIN_TOKEN 后重试。', 'The worker refused this token (401). Check ADMIN_TOKEN and try again.'],
  emptyToken: ['请输入管理令牌。', 'Enter the admin token.'],
  sessionEnded: ['worker 不再接受此令牌,请重新登录。', 'The worker no longer accepts this token: sign in again.'],

  errorTitle: ['出错了', 'Something went wrong'],
  networkError: ['无法连接 worker:', 'The worker could not be reached: '],
  wechatSaid: ['微信返回错误码', 'WeChat answered errcode'],
  problemsTitle: ['还有 {n} 个问题需要处理', '{n} problems left to fix'],
  problemsNone: ['没有问题了', 'No problems left'],
  rule: ['规则', 'rule'],

  composeTitle: ['新建群发', 'Compose a mass send'],
  kindLegend: ['消息类型', 'Message kind'],
  kind_text: ['文本', 'Text'],
  kind_mpnews: ['图文', 'Articles (mpnews)'],
  kind_image: ['图片', 'Image'],
  kind_voice: ['语音', 'Voice'],
  kind_mpvideo: ['视频', 'Video (mpvideo)'],
  kind_wxcard: ['卡券', 'Card (wxcard)'],
  textContent: ['文本内容', 'Text'],
  mediaId: ['media_id', 'media_id'],
  mediaIdHint_image: ['永久素材或临时素材的图片 media_id。', 'The media_id of an uploaded image.'],
  mediaIdHint_voice: ['语音的 media_id。', 'The media_id of an uploaded voice message.'],
  mediaIdHint_mpvideo: ['uploadvideo 返回的 media_id(不是视频本身的 media_id)。', 'The media_id uploadvideo returned (not the video\'s own media_id).'],
  videoTitle: ['视频标题(可选)', 'Video title (optional)'],
  videoDescription: ['视频描述(可选)', 'Video description (optional)'],
  cardId: ['card_id', 'card_id'],
  newsMode: ['图文来源', 'Articles from'],
  newsEditor: ['在此编辑文章', 'Write the articles here'],
  newsMedia: ['已有的图文 media_id', 'An existing mpnews media_id'],
  newsMediaHint: ['uploadnews 返回的 media_id。', 'The media_id uploadnews returned.'],
  article: ['第 {n} 篇文章', 'Article {n}'],
  articleTitle: ['标题', 'Title'],
  articleAuthor: ['作者(可选)', 'Author (optional)'],
  articleDigest: ['摘要(可选)', 'Digest (optional)'],
  articleContent: ['正文(HTML)', 'Body (HTML)'],
  articleSourceUrl: ['原文链接(可选)', 'Source URL (optional)'],
  articleThumb: ['封面 thumb_media_id', 'Cover thumb_media_id'],
  showCoverPic: ['在正文顶部显示封面', 'Show the cover at the top of the body'],
  needOpenComment: ['打开留言', 'Open comments'],
  onlyFansCanComment: ['仅粉丝可留言', 'Only followers may comment'],
  bodyImage: ['插入正文图片(JPEG 或 PNG,经 uploadimg 上传)', 'Insert an image into the body (JPEG or PNG, through uploadimg)'],
  uploadingImage: ['正在上传图片…', 'Uploading the image…'],
  imageInserted: ['已插入图片:', 'Image inserted: '],
  addArticle: ['添加一篇文章', 'Add an article'],
  removeArticle: ['删除第 {n} 篇', 'Remove article {n}'],
  moveUp: ['上移第 {n} 篇', 'Move article {n} up'],
  uploadNews: ['上传图文(uploadnews)', 'Upload the articles (uploadnews)'],
  uploadingNews: ['正在上传图文…', 'Uploading the articles…'],
  newsUploaded: ['图文已上传,media_id:', 'Articles uploaded, media_id: '],
  newsStale: ['文章改动后需要重新上传。', 'The articles changed: upload them again.'],
  reprintLegend: ['原创校验', 'Originality check (原创校验)'],
  sendIgnoreReprint: ['文章被判定为转载时仍然继续群发(send_ignore_reprint = 1)', 'Go on when an article is judged a reprint (send_ignore_reprint = 1)'],
  sendIgnoreReprintHint: ['微信在群发图文时检查原创。不勾选(0):判定为转载时停止群发;勾选(1):继续群发。结果见任务页的原创校验。', 'WeChat checks mpnews articles for originality while sending. Unticked (0): the send stops when an article is judged a reprint; ticked (1): it goes on. The job page shows each article\'s result.'],

  audienceLegend: ['发送对象', 'Audience'],
  audEveryone: ['全部粉丝(is_to_all)', 'Everyone (is_to_all)'],
  audTag: ['一个标签', 'One tag'],
  audFile: ['OpenID 文件(.txt 或 .csv)', 'An OpenID file (.txt or .csv)'],
  tagId: ['标签 ID(tag_id)', 'Tag id (tag_id)'],
  fileLabel: ['OpenID 文件,每行一个(CSV 取第一列)', 'OpenID file, one a line (CSV: the first column)'],
  fileRead: ['已读取 {file}:{lines} 行,{entries} 个条目', 'Read {file}: {lines} lines, {entries} entries'],
  planWaits: ['消息没有问题后,浏览器会规划批次。', 'The browser plans the batches once the message has no problems left.'],
  valid: ['有效(去重后)', 'Valid (unique)'],
  invalid: ['无效', 'Invalid'],
  duplicates: ['重复(已去除)', 'Duplicates (dropped)'],
  batches: ['批次', 'Batches'],
  invalidLines: ['无效的行(前 {n} 个):', 'Invalid lines (the first {n}):'],
  line: ['第 {n} 行', 'line {n}'],
  uploadTitle: ['上传到 worker', 'Upload to the worker'],
  uploadPhase_create: ['正在创建受众…', 'Creating the audience…'],
  uploadPhase_upload: ['已上传 {sent} / {total} 个 OpenID(第 {part} 部分)', 'Uploaded {sent} of {total} OpenIDs (part {part})'],
  uploadPhase_seal: ['正在封存…', 'Sealing…'],
  uploadPhase_done: ['已封存受众 {id}:worker 计得有效 {valid},重复 {duplicates},无效 {invalid},{batches} 批', 'Audience {id} sealed: the worker counts {valid} valid, {duplicates} duplicates, {invalid} invalid, {batches} batches'],
  uploadMismatch: ['worker 的批次数({worker})与浏览器的规划({browser})不一致,不能发送。', 'The worker\'s batches ({worker}) differ from the browser\'s plan ({browser}): not sending.'],
  uploadProgress: ['上传进度', 'Upload progress'],

  scheduleLegend: ['发送时间', 'When'],
  sendNow: ['立即发送', 'Now'],
  sendAt: ['定时(北京时间)', 'At a time (China time)'],
  date: ['日期', 'Date'],
  time: ['时间(北京时间)', 'Time (China time)'],
  fileMissing: ['请选择一个 OpenID 文件。', 'Choose an OpenID file.'],
  dateMissing: ['请选择日期和时间。', 'Choose a date and a time.'],

  summaryTitle: ['发送前核对', 'Check before sending'],
  summaryWaits: ['消息和发送对象都没有问题后,这里显示规划。', 'The plan shows here once the message and the audience have no problems left.'],
  recipients: ['接收人数', 'Recipients'],
  recipientsByWechat: ['由微信统计(标签或全部粉丝)', 'Counted by WeChat (a tag or everyone)'],
  batchSizes: ['每批 {min}–{max} 个 OpenID', '{min}–{max} OpenIDs a batch'],
  quotaTitle: ['额度', 'Quota'],
  quotaRule: ['规则', 'Rule'],
  quotaWindow: ['周期', 'Window'],
  window_day: ['今天(北京时间)', 'Today (China time)'],
  window_month: ['本月(北京时间)', 'This month (China time)'],
  quotaUsed: ['已用', 'Used'],
  quotaLeft: ['剩余', 'Left'],
  quotaLimit: ['上限', 'Limit'],
  quotaResets: ['重置于', 'Resets at'],
  thisPlanUses: ['本次群发占用:sendall {sendall} 次,send {send} 次{toAll}', 'This send uses: {sendall} sendall, {send} send{toAll}'],
  toAllUse: [',其中 1 次发送给全部粉丝', ', 1 of them to everyone'],
  earliestStart: ['最早开始', 'Earliest start'],
  startNow: ['立即', 'now'],
  startNever: ['无法发送:', 'never: '],
  heldBy: ['受额度规则限制:', 'held by the quota rule '],
  scheduleDays: ['批次安排', 'Schedule'],
  scheduleDay: ['第 {first}–{last} 批:{at} 起', 'batches {first}–{last} from {at}'],
  notes: ['注意事项(core 的说明)', 'Notes (from core)'],
  noteToAll: ['发送给全部粉丝(is_to_all)会进入公众号的历史消息列表。', 'A send to everyone (is_to_all) enters the account\'s history list.'],
  noteReprint0: ['send_ignore_reprint = 0:微信在群发时检查文章是否原创;若判定为转载,群发停止(推送 err(30003)),各篇的校验结果见任务页。', 'send_ignore_reprint = 0: WeChat checks the articles for originality while sending; if one is judged a reprint the send stops (the push says err(30003)); the job page shows each article\'s result.'],
  noteReprint1: ['send_ignore_reprint = 1:微信在群发时检查文章是否原创;若判定为转载,群发继续,各篇的校验结果见任务页。', 'send_ignore_reprint = 1: WeChat checks the articles for originality while sending; if one is judged a reprint the send goes on; the job page shows each article\'s result.'],
  queuedNote: ['worker 会先安排其他尚未发完的任务;创建后请在任务页核对最终安排。', 'The worker lays out other jobs still sending first: check the final schedule on the job page once it is created.'],
  chinaTime: ['北京时间', 'China time'],

  previewTitle: ['预览', 'Preview'],
  previewTo: ['预览对象', 'Preview to'],
  previewWxName: ['微信号(towxname)', 'WeChat ID (towxname)'],
  previewOpenId: ['OpenID(touser)', 'OpenID (touser)'],
  previewTarget: ['预览接收者', 'Preview recipient'],
  cardExt: ['card_ext(仅预览,JSON 对象字符串)', 'card_ext (preview only: a JSON object as a string)'],
  sendPreview: ['发送预览', 'Send a preview'],
  previewSent: ['预览已发送', 'Preview sent'],
  sending: ['发送中…', 'Sending…'],

  sendTo_openids: ['发送给 {n} 位粉丝', 'Send to {n} followers'],
  sendTo_tag: ['发送给标签 {tag} 的粉丝', 'Send to the followers of tag {tag}'],
  sendTo_everyone: ['发送给全部粉丝', 'Send to every follower'],
  scheduleTo_openids: ['定时发送给 {n} 位粉丝', 'Schedule a send to {n} followers'],
  scheduleTo_tag: ['定时发送给标签 {tag} 的粉丝', 'Schedule a send to the followers of tag {tag}'],
  scheduleTo_everyone: ['定时发送给全部粉丝', 'Schedule a send to every follower'],
  sendDisabled: ['还有问题未处理,暂不能发送。', 'Sending waits until no problem is left.'],
  confirmTitle: ['确认群发', 'Confirm the send'],
  confirmAt: ['开始时间:{at}', 'Starts: {at}'],
  confirmBatches: ['{n} 批', '{n} batches'],
  confirmYes: ['确认发送', 'Yes, send'],
  confirmNo: ['返回修改', 'Go back'],
  creating: ['正在创建任务…', 'Creating the job…'],

  jobsTitle: ['群发任务', 'Jobs'],
  jobId: ['任务', 'Job'],
  state: ['状态', 'State'],
  createdAt: ['创建于', 'Created'],
  sendAtCol: ['发送时间', 'Send at'],
  batchCounts: ['批次(按状态)', 'Batches by state'],
  noJobs: ['还没有任务。', 'No jobs yet.'],
  nextPage: ['下一页', 'Next page'],
  firstPage: ['第一页', 'First page'],
  refresh: ['刷新', 'Refresh'],

  jobTitle: ['任务 {id}', 'Job {id}'],
  backToJobs: ['返回任务列表', 'Back to the jobs'],
  liveNote: ['每 2 秒自动刷新', 'Refreshes every 2 s'],
  message: ['消息', 'Message'],
  audience: ['发送对象', 'Audience'],
  results: ['结果(MASSSENDJOBFINISH)', 'Results (MASSSENDJOBFINISH)'],
  totalCount: ['总数', 'Total'],
  filterCount: ['过滤后', 'Filtered'],
  sentCount: ['发送成功', 'Sent'],
  errorCount: ['发送失败', 'Errors'],
  eventsCount: ['推送', 'Pushes'],
  chartTitle: ['各批次的发送结果', 'Results per batch'],
  chartEmpty: ['还没有结果推送。', 'No result has arrived yet.'],
  batchesTitle: ['批次', 'Batches'],
  batch: ['批次', 'Batch'],
  attempts: ['尝试次数', 'Attempts'],
  msgId: ['msg_id', 'msg_id'],
  clientMsgId: ['clientmsgid', 'clientmsgid'],
  lastOutcome: ['最近结果', 'Last outcome'],
  failReason: ['失败原因', 'Failure'],
  outcome: ['送达情况', 'Delivery'],
  jobReason: ['未完全送达的原因', 'Why it was not delivered in full'],
  delivered: ['已送达', 'delivered'],
  partly_delivered: ['部分送达', 'partly delivered'],
  refused: ['未送达', 'not delivered'],
  result: ['结果', 'Result'],
  articlesTitle: ['文章:原创校验与链接', 'Articles: originality check and links'],
  checkState: ['校验状态 CheckState', 'CheckState'],
  articleIdx: ['文章序号', 'Article'],
  userDeclareState: ['声明原创 UserDeclareState', 'UserDeclareState'],
  auditState: ['审核结果 AuditState', 'AuditState'],
  originalUrl: ['原文链接', 'Original article'],
  canReprint: ['可转载 CanReprint', 'CanReprint'],
  needReplaceContent: ['需替换内容', 'NeedReplaceContent'],
  needShowReprintSource: ['需注明出处', 'NeedShowReprintSource'],
  articleUrl: ['文章链接', 'Article URL'],
  noArticles: ['没有文章结果(非图文,或推送未到)。', 'No article results (not mpnews, or no push yet).'],
  cancelJob: ['取消未发送的批次', 'Cancel the batches not sent yet'],
  cancelConfirm: ['确认取消任务 {id} 中尚未发送的 {n} 个批次?已发送的批次不受影响。', 'Cancel the {n} batches of job {id} that are not sent yet? Batches already sent stay sent.'],
  cancelYes: ['确认取消', 'Yes, cancel them'],
  cancelNo: ['不取消', 'Keep them'],
  cancelled: ['已取消 {n} 个批次。', '{n} batches cancelled.'],
  deleteTitle: ['删除已发送的文章', 'Delete a sent article'],
  deleteBatch: ['群发(msg_id)', 'Send (msg_id)'],
  deleteIdx: ['文章序号(article_idx,0 = 全部文章)', 'Article (article_idx, 0 = every article)'],
  deleteButton: ['删除', 'Delete'],
  deleteConfirm: ['确认删除 msg_id {msgId} 的{what}?删除后文章页失效;复用同一素材的其他群发也会失效。', 'Delete {what} of msg_id {msgId}? The article page stops working, for every send that reused the same material too.'],
  deleteAll: ['全部文章', 'every article'],
  deleteOne: ['第 {n} 篇文章', 'article {n}'],
  deleteYes: ['确认删除', 'Yes, delete'],
  deleteNo: ['不删除', 'Keep it'],
  deleted: ['已删除。', 'Deleted.'],

  eventsTitle: ['最近的推送', 'Latest pushes'],
  eventsTotal: ['共 {n} 条', '{n} in all'],
  eventFilter: ['按状态筛选', 'Filter by state'],
  allStates: ['全部', 'All'],
  receivedAt: ['收到时间', 'Received'],
  kind: ['类型', 'Kind'],
  event: ['事件', 'Event'],
  reason: ['原因', 'Reason'],
  rawXml: ['原始 XML', 'Raw XML'],
  noEvents: ['没有推送。', 'No pushes.'],
  markUnreadable: ['无法解析', 'unreadable'],
  markForwardFailed: ['转发失败', 'forward failed'],

  statusTitle: ['状态', 'Status'],
  accountKind: ['账号类型', 'Account kind'],
  callbackMode: ['回调模式', 'Callback mode'],
  forwarding: ['转发到公众号服务器', 'Forwarding to the account\'s server'],
  forwardFailedCount: ['转发失败的推送', 'Pushes not forwarded'],
  tokenTitle: ['access_token', 'access_token'],
  tokenAge: ['已获取 {age}', 'fetched {age} ago'],
  tokenNone: ['尚未获取', 'not fetched yet'],
  tokenRefresh: ['刷新于 {at}', 'refreshed at {at}'],
  callsTitle: ['调用', 'Calls'],
  lastMinute: ['最近一分钟的群发调用', 'Mass calls in the last minute'],
  sendsToday: ['今天成功群发', 'Sends today'],
  sendsThisMonth: ['本月成功群发', 'Sends this month'],
  toAllToday: ['今天发送给全部粉丝', 'To everyone today'],
  toAllThisMonth: ['本月发送给全部粉丝', 'To everyone this month'],
  eventsByState: ['推送(按状态)', 'Pushes by state'],
  ledgerTitle: ['本月的群发记录(ledger)', 'This month\'s sends (the ledger)'],
  yes: ['是', 'yes'],
  no: ['否', 'no'],
  speedTitle: ['群发速度', 'Send speed'],
  speedNow: ['当前速度等级 {speed},实际速度 {real}', 'Speed level {speed}, real speed {real}'],
  speedLabel: ['新的速度等级(speed)', 'New speed level (speed)'],
  speedSet: ['设置速度', 'Set the speed'],
  speedSaved: ['速度已设置。', 'Speed set.'],
  seconds: ['{n} 秒', '{n} s'],
  minutes: ['{n} 分钟', '{n} min'],
  hours: ['{n} 小时', '{n} h'],
};

/** The text of `key` in the current language, `{name}` filled from `vars`. */
export function t(key, vars = {}) {
  const pair = S[key];
  const text = pair ? pair[lang === 'zh' ? 0 : 1] : key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])));
}

/** A count as people read it: 25,001. */
export const num = (n) => (n === null || n === undefined ? '—' : new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US').format(n));

const chinaParts = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** Unix ms as `2030-03-07 08:00:00` in China time (Asia/Shanghai), with the zone named. */
export function chinaTime(ms, { seconds = false } = {}) {
  if (ms === null || ms === undefined) return '—';
  const p = Object.fromEntries(chinaParts.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const clock = seconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
  return `${p.year}-${p.month}-${p.day} ${clock} ${t('chinaTime')}`;
}

/** A duration in ms as `3 分钟` / `3 min`. */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return t('seconds', { n: s });
  if (s < 7200) return t('minutes', { n: Math.round(s / 60) });
  return t('hours', { n: Math.round(s / 3600) });
}
