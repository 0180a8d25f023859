// i18n.js — the one table of every string the dashboard shows, Chinese first
// (the coordinators' language) with an English toggle kept in localStorage.

const STRINGS = {
  // header and login
  'app.title': ['龙华血标本无人机调度', 'Longhua specimen drone dispatch'],
  'login.title': ['登录', 'Sign in'],
  'login.user': ['用户名', 'User'],
  'login.password': ['密码', 'Password'],
  'login.submit': ['登录', 'Sign in'],
  'login.failed': ['用户名或密码错误', 'Wrong user name or password'],
  'login.busy': ['正在登录…', 'Signing in…'],
  'logout': ['退出', 'Log out'],
  'lang.toggle': ['English', '中文'],
  'header.time': ['服务时间', 'Service time'],
  'header.scenario': ['场景', 'Scenario'],
  'header.policy': ['策略', 'Policy'],
  'header.speed': ['倍速', 'Speed'],
  'header.cutoff': ['截止', 'Cutoff'],
  'role.coordinator': ['调度员', 'coordinator'],
  'role.viewer': ['观察员', 'viewer'],
  'role.lab': ['实验室', 'lab'],
  'conn.open': ['实时', 'live'],
  'conn.connecting': ['重新连接中…', 'reconnecting…'],
  'conn.closed': ['已断开', 'disconnected'],
  'conn.replay': ['回放', 'replay'],
  'mode.live': ['实时', 'Live'],
  'mode.replay': ['回放', 'Replay'],
  // fleet and KPIs
  'fleet.flying': ['机队运行中', 'Fleet flying'],
  'fleet.grounded': ['机队已停飞', 'Fleet grounded'],
  'fleet.weather': ['（天气）', ' (weather)'],
  'btn.ground': ['全部停飞', 'Ground fleet'],
  'btn.release': ['恢复飞行', 'Release fleet'],
  'kpi.on_track': ['按时率', 'On track'],
  'kpi.tat': ['周转 P50 / P90', 'TAT p50 / p90'],
  'kpi.flights': ['航次', 'Flights'],
  'kpi.drones': ['可用无人机', 'Drones available'],
  'kpi.tubes': ['试管', 'Tubes'],
  'kpi.at_risk': ['风险试管', 'At risk'],
  'kpi.reported': ['已报告', 'Reported'],
  'unit.min': ['分钟', 'min'],
  // tabs and panels
  'tab.missions': ['任务', 'Missions'],
  'tab.at_risk': ['风险', 'At risk'],
  'tab.alerts': ['告警', 'Alerts'],
  'tab.labs': ['实验室', 'Labs'],
  'tab.hooks': ['推送', 'Hooks'],
  'col.queued': ['排队', 'Queued'],
  'col.assigned': ['已分配', 'Assigned'],
  'col.in_flight': ['飞行中', 'In flight'],
  'col.delivered': ['已送达', 'Delivered'],
  'col.aborted': ['已中止', 'Aborted'],
  'board.empty': ['暂无', 'None'],
  'board.more': ['仅显示最近 {n} 个', 'showing the last {n}'],
  'board.from_pad': ['{pad}（{station} 的箱子）', '{pad} (box from {station})'],
  'risk.empty': ['没有风险试管', 'No tubes at risk'],
  'risk.predicted': ['预计出结果', 'Predicted result'],
  'risk.cutoff': ['截止', 'Cutoff'],
  'risk.none': ['无法预计', 'no prediction'],
  'alerts.empty': ['没有告警', 'No alerts'],
  'alerts.ack': ['确认', 'Acknowledge'],
  'alerts.acked': ['{user} 于 {at} 确认', 'acknowledged by {user} at {at}'],
  'labs.empty': ['没有实验室数据', 'No lab data'],
  'labs.family': ['专业组', 'Family'],
  'labs.queue': ['排队', 'Queue'],
  'labs.inbound': ['在途', 'Inbound'],
  'labs.down': ['故障分析仪', 'Analyzers down'],
  'labs.open': ['开放', 'open'],
  'labs.unavailable': ['不可用', 'unavailable'],
  'labs.closed': ['已关闭', 'closed'],
  'hooks.pending': ['待发送', 'Pending'],
  'hooks.failed': ['失败', 'Failed'],
  'hooks.delivered': ['已送达', 'Delivered'],
  'hooks.empty': ['没有最近推送', 'No recent deliveries'],
  'hooks.resend': ['重发', 'Re-send'],
  'hooks.attempts': ['尝试 {n} 次', '{n} attempts'],
  // statuses
  'status.idle': ['空闲', 'idle'],
  'status.charging': ['充电中', 'charging'],
  'status.on_mission': ['执行任务', 'on mission'],
  'status.returning': ['返航', 'returning'],
  'status.fault': ['故障', 'fault'],
  'status.lost': ['失联', 'lost'],
  'status.waiting': ['待取', 'waiting'],
  'status.assigned': ['已分配', 'assigned'],
  'status.on_board': ['机上', 'on board'],
  'status.stranded': ['滞留', 'stranded'],
  'status.delivered': ['已送达', 'delivered'],
  'status.queued': ['排队', 'queued'],
  'status.in_flight': ['飞行中', 'in flight'],
  'status.aborted': ['已中止', 'aborted'],
  'status.pending': ['待发送', 'pending'],
  'status.failed': ['失败', 'failed'],
  'status.gone': ['已失效', 'gone'],
  'status.in_box': ['箱内', 'in box'],
  'status.at_lab': ['已到实验室', 'at lab'],
  'status.resulted': ['已出结果', 'resulted'],
  'status.reported': ['已报告', 'reported'],
  'status.rejected': ['已拒收', 'rejected'],
  'status.paused': ['已暂停', 'paused'],
  'status.link_lost': ['链路中断', 'link lost'],
  'sev.info': ['提示', 'info'],
  'sev.warning': ['警告', 'warning'],
  'sev.critical': ['严重', 'critical'],
  'carrier.drone': ['无人机', 'drone'],
  'carrier.van': ['货车', 'van'],
  // custody steps
  'step.drawn': ['采血', 'drawn'],
  'step.sealed_in_box': ['封箱', 'sealed in box'],
  'step.loaded': ['装机', 'loaded'],
  'step.in_flight': ['飞行中', 'in flight'],
  'step.in_van': ['货车运输', 'in van'],
  'step.landed': ['降落', 'landed'],
  'step.stranded': ['滞留', 'stranded'],
  'step.received_at_lab': ['实验室签收', 'received at lab'],
  'step.centrifuged': ['离心', 'centrifuged'],
  'step.resulted': ['出结果', 'resulted'],
  'step.reported': ['已报告', 'reported'],
  'step.rejected_at_lab': ['实验室拒收', 'rejected at lab'],
  // details drawer
  'details.close': ['关闭', 'Close'],
  'details.back': ['返回', 'Back'],
  'details.loading': ['加载中…', 'Loading…'],
  'details.missing': ['当前视图中没有此对象', 'Not in the current view'],
  'details.station': ['社康中心', 'Health centre'],
  'details.lab': ['实验室', 'Lab'],
  'details.pickup_pad': ['取箱停机坪', 'Pick up at pad'],
  'details.drone': ['无人机', 'Drone'],
  'details.box': ['标本箱', 'Specimen box'],
  'details.mission': ['任务', 'Mission'],
  'details.tube': ['试管', 'Tube'],
  'details.id': ['编号', 'ID'],
  'details.subdistrict': ['街道', 'Subdistrict'],
  'details.tier': ['级别', 'Tier'],
  'details.centrifuge': ['有离心机', 'has centrifuge'],
  'details.pending': ['待运试管', 'Pending tubes'],
  'details.at_risk': ['风险试管', 'Tubes at risk'],
  'details.boxes': ['标本箱', 'Boxes'],
  'details.tubes': ['试管', 'Tubes'],
  'details.missions': ['任务', 'Missions'],
  'details.no_boxes': ['没有未送达的标本箱', 'No boxes on the way'],
  'details.no_tubes': ['没有可显示的试管条码', 'No tube barcodes to show'],
  'details.battery': ['电量', 'Battery'],
  'details.status': ['状态', 'Status'],
  'details.mission_of': ['当前任务', 'Mission'],
  'details.flights': ['航次', 'Flights'],
  'details.position': ['位置', 'Position'],
  'details.temp': ['温度', 'Temperature'],
  'details.deadline': ['稳定期限', 'Stability deadline'],
  'details.column': ['阶段', 'Stage'],
  'details.carrier': ['运输方式', 'Carrier'],
  'details.vehicle': ['载具', 'Vehicle'],
  'details.route': ['路线', 'Route'],
  'details.arrival': ['计划到达', 'Planned arrival'],
  'details.why': ['决策理由', 'Why this plan'],
  'details.why_none': ['没有决策说明', 'No explanation recorded'],
  'details.option': ['方案', 'Option'],
  'details.score': ['评分', 'Score'],
  'details.verdict': ['结论', 'Verdict'],
  'details.custody': ['交接记录', 'Chain of custody'],
  'details.state': ['当前状态', 'Current state'],
  'details.no_custody': ['没有交接记录', 'No custody recorded'],
  'details.place': ['地点', 'place'],
  'details.by': ['经手', 'by'],
  'details.refresh': ['刷新', 'Refresh'],
  'details.reason': ['原因', 'Reason'],
  'details.analyzers': ['分析仪', 'Analyzers'],
  'details.queues': ['排队与在途', 'Queues'],
  'ctl.pause': ['暂停', 'Pause'],
  'ctl.resume': ['恢复', 'Resume'],
  'ctl.unavailable': ['设为不可用', 'Mark unavailable'],
  'ctl.available': ['设为可用', 'Mark available'],
  'ctl.force_pickup': ['立即取件', 'Force pickup'],
  'ctl.reassign': ['改派', 'Reassign'],
  'ctl.pick_drone': ['选择空闲无人机', 'Choose an idle drone'],
  'ctl.no_idle': ['没有空闲无人机', 'No idle drone'],
  'ctl.accepted': ['已受理', 'Accepted'],
  'ctl.received': ['已签收', 'Received'],
  'ctl.rejected': ['拒收', 'Rejected'],
  'ctl.reject_reason': ['拒收原因：', 'Reason for rejection:'],
  'ctl.busy': ['提交中…', 'Sending…'],
  // replay
  'replay.run': ['运行记录', 'Run'],
  'replay.open': ['打开', 'Open'],
  'replay.opening': ['正在打开…', 'Opening…'],
  'replay.play': ['播放', 'Play'],
  'replay.pause': ['暂停', 'Pause'],
  'replay.speed': ['帧/秒', 'frames/s'],
  'replay.no_runs': ['没有可回放的运行', 'No runs to replay'],
  'replay.frame': ['第 {i}/{n} 帧', 'frame {i}/{n}'],
  // fields of a tube's state (anything else shows its raw name)
  'field.status': ['状态', 'status'],
  'field.station': ['社康中心', 'centre'],
  'field.box': ['标本箱', 'box'],
  'field.box_id': ['标本箱', 'box'],
  'field.lab': ['实验室', 'lab'],
  'field.tube_type': ['试管类型', 'tube type'],
  'field.drawn_at': ['采血时间', 'drawn at'],
  'field.tests': ['检验项目', 'tests'],
  'field.families': ['专业组', 'families'],
  'field.stability_minutes': ['稳定时间（分钟）', 'stability (min)'],
  'field.band': ['温度区间', 'temperature band'],
  'field.spun': ['已离心', 'spun'],
  'field.received_at': ['签收时间', 'received at'],
  'field.resulted_at': ['出结果时间', 'resulted at'],
  'field.reported_at': ['报告时间', 'reported at'],
  // map legend
  'legend.idle': ['无待运', 'nothing pending'],
  'legend.pending': ['有待运', 'pending'],
  'legend.risk': ['有风险', 'at risk'],
  // errors
  'err.network': ['网络错误', 'Network error'],
  'err.http': ['服务器错误 {status}', 'Server error {status}'],
  'err.timeout': ['请求超时', 'Request timed out'],
  'err.map': ['地图加载失败，正在重试', 'Map failed to load, retrying'],
  // search and language
  'header.zone': ['北京时间 UTC+8', 'UTC+8'],
  'risk.code.result_after_cutoff': ['{lab}：预计 {at} 出结果，晚于截止时间', '{lab}: result predicted at {at}, after the cutoff'],
  'risk.code.stability_before_arrival': ['计划 {at} 到达 {lab}，晚于稳定期限 {limit}', 'planned at {lab} at {at}, after its stability limit {limit}'],
  'risk.code.no_lab': ['目前没有实验室可以接收', 'no lab can take it now'],
  'risk.code.beyond_range_no_van': ['超出所有无人机航程，且没有货车可派', "beyond every drone's range and no van to take it"],
  'risk.code.grounded_no_van': ['机队停飞且没有货车可派；稳定期限 {limit}', 'fleet grounded and no van to send; stability limit {limit}'],
  'risk.code.grounded_van_late': ['机队停飞；最早的货车 {at} 到达 {lab}，晚于期限 {limit}', 'fleet grounded; the first van reaches {lab} at {at}, after its deadline {limit}'],
  'risk.code.stranded': ['降落在实验室以外，等待运输', 'set down away from a lab: waiting for a carrier'],
  'risk.code.rejected': ['实验室拒收，已要求重新采血', 'rejected by the lab: a redraw was asked for'],
  'risk.limit': ['稳定期限', 'Stability limit'],
  // triage: alert triage, the ground-fleet confirmation, reassign reasons, replay's empty state
  'triage.sev_all': ['全部级别', 'All severities'],
  'triage.kind_all': ['全部类型', 'All kinds'],
  'triage.acked_all': ['全部', 'All'],
  'triage.acked_no': ['未确认', 'Unacknowledged'],
  'triage.acked_yes': ['已确认', 'Acknowledged'],
  'triage.filter_sev': ['级别', 'Severity'],
  'triage.filter_kind': ['类型', 'Kind'],
  'triage.filter_acked': ['确认状态', 'Acknowledged'],
  'triage.ack_filtered': ['确认所显示的 {n} 条', 'Acknowledge {n} shown'],
  'triage.ack_group': ['确认 {n} 条', 'Acknowledge {n}'],
  'triage.expand': ['展开 {n} 条', 'Show {n}'],
  'triage.collapse': ['收起', 'Hide'],
  'triage.total': ['未确认 {n} 条（列出最近 {listed} 条）', '{n} unacknowledged in all (latest {listed} listed)'],
  'triage.none_match': ['没有符合筛选条件的告警', 'No alerts match the filters'],
  'triage.notify': ['严重告警桌面通知', 'Desktop notice for critical alerts'],
  'triage.sound': ['严重告警提示音', 'Sound for critical alerts'],
  'triage.notify_denied': ['浏览器不允许通知', 'The browser does not allow notifications'],
  'triage.notice_title': ['严重告警', 'Critical alert'],
  'alertkind.tube_at_risk': ['试管有风险', 'tube at risk'],
  'alertkind.temperature_excursion': ['温度超限', 'temperature excursion'],
  'alertkind.low_battery': ['电量低', 'low battery'],
  'alertkind.drone_lost': ['无人机失联', 'drone lost'],
  'alertkind.drone_fault': ['无人机故障', 'drone fault'],
  'alertkind.lab_overloaded': ['实验室过载', 'lab overloaded'],
  'alertkind.lab_unavailable': ['实验室不可用', 'lab unavailable'],
  'alertkind.fleet_grounded': ['机队停飞', 'fleet grounded'],
  'alertkind.no_feasible_drone': ['无可用无人机', 'no feasible drone'],
  'alertkind.stability_exceeded': ['超出稳定期', 'stability exceeded'],
  'alertkind.custody_conflict': ['交接冲突', 'custody conflict'],
  'confirm.ground_title': ['确认全部停飞？', 'Ground the whole fleet?'],
  'confirm.ground_text': ['所有无人机将停止起飞，飞行中的无人机按预案返回或降落。', 'No drone will take off; drones in flight return or land as planned.'],
  'confirm.ground_ok': ['全部停飞', 'Ground fleet'],
  'confirm.cancel': ['取消', 'Cancel'],
  'reassign.grounded': ['机队已停飞，无法改派', 'The fleet is grounded: no drone can take it'],
  'reassign.paused': ['空闲无人机均已暂停', 'Every idle drone is paused'],
  'reassign.none_idle': ['没有空闲无人机（{busy} 架执行任务，{charging} 架充电，{down} 架故障或失联）', 'No idle drone ({busy} on missions, {charging} charging, {down} faulty or lost)'],
  'replay.pick_run': ['请选择一个运行记录并点击“打开”。回放中不能操作机队。', 'Pick a run and open it. Replays show a past day: nothing here steers the fleet.'],
  'family.hematology': ['血液', 'hematology'],
  'family.chemistry': ['生化', 'chemistry'],
  'family.immunoassay': ['免疫', 'immunoassay'],
  'family.hba1c': ['糖化血红蛋白', 'HbA1c'],
  'family.coagulation': ['凝血', 'coagulation'],
  'search.placeholder': ['搜索条码、标本箱、中心、无人机、任务', 'Search barcode, box, centre, drone, mission'],
  'search.label': ['搜索', 'Search'],
  'search.none': ['没有匹配', 'No match'],
  'tab.fleet': ['机队', 'Fleet'],
  'tab.boxes': ['待运', 'Boxes'],
  'fleet.eta': ['预计到达', 'ETA'],
  'fleet.empty': ['没有无人机', 'No drones'],
  'group.label': ['分组', 'Group'],
  'group.none': ['不分组', 'No grouping'],
  'group.station': ['按中心', 'By centre'],
  'group.lab': ['按实验室', 'By lab'],
  'group.no_lab': ['未定实验室', 'No lab yet'],
  'boxes.empty': ['没有待运标本箱', 'No boxes waiting'],
  'subject.fleet': ['机队', 'fleet'],
  'policy.drone': ['无人机调度', 'drone'],
  'policy.courier': ['货车班次', 'courier'],
  'policy.greedy': ['就近派机', 'greedy'],
};

const KEY = 'labflight.lang';
let lang = 'zh';
try {
  if (localStorage.getItem(KEY) === 'en') lang = 'en';
} catch { /* storage may be blocked: stay Chinese */ }

const listeners = new Set();

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  try { localStorage.setItem(KEY, lang); } catch { /* ignore */ }
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  applyStatic(document);
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** The string for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars) {
  const entry = STRINGS[key];
  let s = entry ? entry[lang === 'zh' ? 0 : 1] : key;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  }
  return s;
}

/** A translated status word, or the raw word when the table has none. */
export function tStatus(prefix, word) {
  if (word == null) return '—';
  const key = `${prefix}.${word}`;
  return STRINGS[key] ? t(key) : String(word);
}

/** Fills every `[data-i18n]` element's text (and `[data-i18n-placeholder]`). */
export function applyStatic(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
