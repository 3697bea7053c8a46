// The Prongsai dashboard: renders the city and district pages from the JSON
// API and re-fetches them when the live stream reports a new log position.
'use strict';

const T = {
  th: {
    brand: 'โปร่งใส · ติดตาม ITA กรุงเทพมหานคร', skip: 'ข้ามไปยังเนื้อหา', loading: 'กำลังโหลด…',
    switchTo: 'English', demo: 'ข้อมูลสาธิต: ข้อมูลในระบบนี้สร้างขึ้นเพื่อการสาธิต (ผู้บันทึก "{actor}") ไม่ใช่ข้อมูลจริงของสำนักงานเขต',
    cityTitle: 'ภาพรวม 50 สำนักงานเขต', fy: 'ปีงบประมาณ', round: 'รอบ', filter: 'ค้นหาเขต', sort: 'เรียงตาม',
    onlyAlerts: 'เฉพาะเขตที่มีการแจ้งเตือน', code: 'รหัส', district: 'สำนักงานเขต', overall: 'รวม', alerts: 'แจ้งเตือน',
    measuresDone: 'มาตรการที่ดำเนินการแล้ว', of: 'จาก', overdue: 'เกินกำหนด', inProgress: 'กำลังดำเนินการ',
    gifts: 'รายงานการรับของขวัญ', complaints: 'เรื่องร้องเรียน', open: 'ยังไม่ยุติ', closed: 'ยุติแล้ว', received: 'รับเรื่อง',
    alertsTotal: 'การแจ้งเตือนทั้งหมด', districtsShown: 'แสดง {n} จาก {m} เขต', legend: 'ความคืบหน้าของมาตรการ (ดำเนินการแล้ว/ทั้งหมด)',
    nonePlanned: 'ไม่มีมาตรการ', sortCode: 'รหัสเขต', sortName: 'ชื่อเขต', sortProgressAsc: 'ความคืบหน้า น้อย → มาก',
    sortProgressDesc: 'ความคืบหน้า มาก → น้อย', sortAlerts: 'จำนวนแจ้งเตือน', alertsList: 'การแจ้งเตือนล่าสุด',
    indicator: 'ตัวชี้วัด', progress: 'ความคืบหน้า', back: '← ภาพรวมทั้งเมือง', report: 'รายงานความก้าวหน้า ITA',
    print: 'พิมพ์รายงาน', download: 'ดาวน์โหลด', timeline: 'มาตรการตามลำดับเวลา', meetings: 'การประชุม',
    giftRegister: 'ทะเบียนการรับของขวัญ', audit: 'สถานะการตรวจสอบ (Audit)', planned: 'แผน', evidence: 'หลักฐาน',
    results: 'ผลการดำเนินงาน', noMeasures: 'ยังไม่มีมาตรการในปีงบประมาณนี้', noMeetings: 'ไม่มีการประชุมที่บันทึกไว้',
    noGifts: 'ไม่มีรายงานการรับของขวัญในรอบนี้', attendees: 'ผู้เข้าร่วม {n} คน', date: 'วันที่', giver: 'ผู้ให้',
    description: 'รายการ', value: 'มูลค่า (บาท)', disposition: 'การดำเนินการ', anonymised: 'ข้อมูลส่วนบุคคลถูกปกปิด',
    byCategory: 'ตามประเภท', openAges: 'อายุเรื่องที่ยังไม่ยุติ', medianClose: 'ค่ามัธยฐานวันที่ใช้ยุติเรื่อง',
    checkpoint: 'จุดตรวจสอบที่ลงนามล่าสุด', treeSize: 'จำนวนรายการ', root: 'Merkle root', signature: 'ลายมือชื่อดิจิทัล',
    valid: 'ถูกต้อง', invalid: 'ไม่ถูกต้อง', checkedAt: 'ตรวจสอบเมื่อ', covers: 'ครอบคลุมทุกรายการที่บันทึก',
    notCovered: 'ยังไม่ครอบคลุม {n} รายการล่าสุด (จะลงนามในรอบถัดไป)', noCheckpoint: 'ยังไม่มีจุดตรวจสอบที่ลงนาม',
    verifyOffline: 'ตรวจสอบแบบออฟไลน์', verifierKey: 'กุญแจตรวจสอบ', scorecard: 'สรุปคะแนน', meanScore: 'คะแนนเฉลี่ยรายข้อ',
    live: 'อัปเดตสด', liveOff: 'ขาดการเชื่อมต่อ', updated: 'อัปเดต {t}', position: 'ตำแหน่งบันทึก {p}',
    errorLoad: 'โหลดข้อมูลไม่สำเร็จ: {m}', empty: 'ยังไม่มีข้อมูลสำหรับปีงบประมาณนี้', statusDone: 'ดำเนินการแล้ว',
    notFound: 'ไม่พบสำนักงานเขตนี้', planPeriod: 'ช่วงแผน', responsible: 'ผู้รับผิดชอบ', items: 'ข้อ',
    oss: 'บริการ BMA OSS', ossOnTime: 'บริการ BMA OSS เสร็จตามกำหนด', service: 'บริการ', standardDays: 'กำหนด (วัน)',
    completed: 'เสร็จแล้ว', onTime: 'ตรงเวลา', late: 'ล่าช้า', medianDays: 'มัธยฐาน (วัน)', backlog: 'ค้างดำเนินการ',
    noServices: 'ไม่มีคำขอรับบริการในปีงบประมาณนี้', downloadExport: 'ดาวน์โหลดไฟล์ส่งออกเพื่อตรวจสอบ',
    verifySteps: 'ตรวจสอบด้วยคำสั่งด้านล่าง โดยไม่ต้องเชื่อถือเซิร์ฟเวอร์ (ใช้เพียงกุญแจตรวจสอบ)',
  },
  en: {
    brand: 'Prongsai · Bangkok ITA monitor', skip: 'Skip to content', loading: 'Loading…',
    switchTo: 'ภาษาไทย', demo: 'Demo data: everything here was generated for demonstration (actor "{actor}"); it is not real district data',
    cityTitle: 'All 50 district offices', fy: 'Fiscal year', round: 'Round', filter: 'Find a district', sort: 'Sort by',
    onlyAlerts: 'Only districts with alerts', code: 'Code', district: 'District office', overall: 'Overall', alerts: 'Alerts',
    measuresDone: 'Measures done', of: 'of', overdue: 'overdue', inProgress: 'in progress',
    gifts: 'Gift reports', complaints: 'Complaints', open: 'open', closed: 'closed', received: 'received',
    alertsTotal: 'Alerts in total', districtsShown: 'Showing {n} of {m} districts', legend: 'Measure progress (done / all)',
    nonePlanned: 'no measures', sortCode: 'District code', sortName: 'District name', sortProgressAsc: 'Progress, lowest first',
    sortProgressDesc: 'Progress, highest first', sortAlerts: 'Number of alerts', alertsList: 'Alerts',
    indicator: 'Indicator', progress: 'Progress', back: '← City overview', report: 'ITA progress report',
    print: 'Print report', download: 'Download', timeline: 'Measures on a timeline', meetings: 'Meetings',
    giftRegister: 'Gift register', audit: 'Audit status', planned: 'Plan', evidence: 'Evidence',
    results: 'Results', noMeasures: 'No measures in this fiscal year yet', noMeetings: 'No meetings recorded',
    noGifts: 'No gift reports in this round', attendees: '{n} attendees', date: 'Date', giver: 'Giver',
    description: 'Item', value: 'Value (baht)', disposition: 'Disposition', anonymised: 'Personal data withheld',
    byCategory: 'By category', openAges: 'Age of open complaints', medianClose: 'Median days to close',
    checkpoint: 'Latest signed checkpoint', treeSize: 'Records', root: 'Merkle root', signature: 'Signature',
    valid: 'valid', invalid: 'INVALID', checkedAt: 'Checked', covers: 'Covers every stored record',
    notCovered: 'The latest {n} records are not signed yet (next round)', noCheckpoint: 'No signed checkpoint yet',
    verifyOffline: 'Verify offline', verifierKey: 'Verifier key', scorecard: 'Scorecard', meanScore: 'Mean item score',
    live: 'Live', liveOff: 'Disconnected', updated: 'Updated {t}', position: 'Log position {p}',
    errorLoad: 'Could not load: {m}', empty: 'Nothing recorded for this fiscal year yet', statusDone: 'Done',
    notFound: 'No such district office', planPeriod: 'Planned', responsible: 'Responsible', items: 'Items',
    oss: 'BMA OSS services', ossOnTime: 'BMA OSS requests done on time', service: 'Service', standardDays: 'Standard (days)',
    completed: 'completed', onTime: 'on time', late: 'late', medianDays: 'Median days', backlog: 'backlog',
    noServices: 'No service requests in this fiscal year', downloadExport: 'Download the export to verify',
    verifySteps: 'Check it with the command below, trusting only the verifier key, not this server',
  },
};

const state = {
  lang: 'th', about: null, position: 0, shown: 0, render: null,
  sort: 'code', sortDir: 1, filter: '', onlyAlerts: false, fy: 0, round: '',
};

function t(key, vars) {
  let s = (T[state.lang] && T[state.lang][key]) || T.th[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace('{' + k + '}', v);
  return s;
}
function L(label) { return label ? (label[state.lang] || label.th || label.en || '') : ''; }
function esc(s) {
  return String(s == null ? '' : s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function num(n) { return Number(n || 0).toLocaleString(state.lang === 'th' ? 'th-TH' : 'en-GB'); }
function locale() { return state.lang === 'th' ? 'th-TH-u-ca-buddhist' : 'en-GB-u-ca-buddhist'; }
// Dates in the Buddhist era: a Timestamp string or a {year, month, day}.
function fmtDate(d, withTime) {
  if (!d) return '';
  const date = typeof d === 'string' ? new Date(d) : new Date(Date.UTC(d.year, (d.month || 1) - 1, d.day || 1, 5));
  const opts = { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'Asia/Bangkok' };
  if (withTime) { opts.hour = '2-digit'; opts.minute = '2-digit'; opts.second = '2-digit'; }
  let s = new Intl.DateTimeFormat(locale(), opts).format(date);
  if (state.lang === 'en' && !/BE/.test(s)) s += ' BE';
  return s;
}
function currentFy() { const n = new Date(); return n.getFullYear() + 543 + (n.getMonth() >= 9 ? 1 : 0); }
function currentRound(fy) {
  if (fy !== currentFy()) return 'FULL_YEAR';
  const m = new Date().getMonth();
  return (m >= 9 || m <= 2) ? 'H1' : 'H2';
}
function params() { return new URLSearchParams(location.search); }

async function api(path) {
  const sep = path.includes('?') ? '&' : '?';
  const url = state.position ? `${path}${sep}min_position=${state.position}&wait=2s` : path;
  const res = await fetch(url, { cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || `${res.status} ${url}`);
  return body;
}

function setLang(lang) {
  state.lang = lang === 'en' ? 'en' : 'th';
  try { localStorage.setItem('prongsai.lang', state.lang); } catch (e) { /* private mode */ }
  document.documentElement.lang = state.lang;
  document.querySelectorAll('[data-t]').forEach(el => { el.textContent = t(el.dataset.t); });
  const btn = document.getElementById('lang');
  btn.textContent = t('switchTo');
  btn.setAttribute('aria-label', state.lang === 'th' ? 'Switch to English' : 'เปลี่ยนเป็นภาษาไทย');
  const p = params();
  if (p.has('lang')) { p.set('lang', state.lang); history.replaceState(null, '', `${location.pathname}?${p}${location.hash}`); }
  renderBanner();
}

function renderBanner() {
  const banner = document.getElementById('demo-banner');
  if (state.about && state.about.demo) {
    banner.hidden = false;
    banner.textContent = t('demo', { actor: state.about.demoActor });
    document.body.dataset.demo = 'true';
  } else {
    banner.hidden = true;
  }
}

function setLive(on) {
  const el = document.getElementById('live');
  el.classList.toggle('off', !on);
  el.textContent = on ? t('live') : t('liveOff');
}

function footer() {
  document.getElementById('position').textContent = t('position', { p: num(state.shown) }) +
    ' · ' + t('updated', { t: fmtDate(new Date().toISOString(), true) });
  document.body.dataset.position = String(state.shown);
}

async function refresh() {
  if (!state.render) return;
  const target = state.position;
  try {
    state.about = await api('/v1/about');
    renderBanner();
    await state.render();
    state.shown = Math.max(target, state.about.viewPosition || 0);
    footer();
  } catch (e) {
    document.getElementById('main').innerHTML = `<p class="error" role="alert">${esc(t('errorLoad', { m: e.message }))}</p>`;
  }
}

let pending = null;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(async () => { pending = null; await refresh(); }, 100);
}

function startLive() {
  if (!window.EventSource) return;
  const source = new EventSource('/v1/live');
  source.addEventListener('position', ev => {
    const p = Number(ev.data);
    setLive(true);
    if (p > state.position) {
      const first = state.position === 0;
      state.position = p;
      if (!first || state.shown < p) scheduleRefresh();
    }
  });
  source.onerror = () => setLive(false);
  source.onopen = () => setLive(true);
}

// ---------------------------------------------------------------- city page

function heat(d) {
  const planned = d && d.measures ? d.measures.planned || 0 : 0;
  if (!planned) return 'h0';
  const p = d.progressPercent || 0;
  if (p >= 100) return 'h5';
  if (p >= 75) return 'h4';
  if (p >= 50) return 'h3';
  if (p >= 25) return 'h2';
  return 'h1';
}
function pct(d) {
  const planned = d && (d.measures || d.totals) ? ((d.measures || d.totals).planned || 0) : 0;
  return planned ? `${Math.round(d.progressPercent || 0)}%` : '–';
}

function fySelect(selected) {
  const now = currentFy();
  let opts = '';
  for (let y = now; y >= 2568; y--) opts += `<option value="${y}"${y === selected ? ' selected' : ''}>${state.lang === 'th' ? 'พ.ศ. ' : 'FY '}${y}</option>`;
  return `<label>${esc(t('fy'))}<select id="fy">${opts}</select></label>`;
}

function giftCard(gifts) {
  const totals = gifts.totals || {};
  const rows = (totals.byDisposition || []).map(g => `<li>${esc(L(g.label))}: ${num(g.count)}</li>`).join('');
  return `<div class="card" id="card-gifts"><div class="num">${num(totals.count)}</div><div class="lbl">${esc(t('gifts'))}</div><ul>${rows}</ul></div>`;
}

// The on-time rate of BMA OSS requests: completed by their deadline, of
// those completed that had one.
const rate = f => f && f.onTimeRate != null ? `${num(f.onTimeRate)}%` : '–';

function ossCard(services) {
  const f = (services && services.total) || {};
  return `<div class="card" id="card-oss"><div class="num">${rate(f)}</div><div class="lbl">${esc(t('ossOnTime'))}</div><ul><li>${num(f.onTime)} ${esc(t('onTime'))} · ${num(f.late)} ${esc(t('late'))}</li><li>${num(f.backlog)} ${esc(t('backlog'))}</li></ul></div>`;
}

function servicesSection(s) {
  const list = (s && s.services) || [];
  if (!list.length) return `<p class="muted">${esc(t('noServices'))}</p>`;
  const f = s.total || {};
  const rows = list.map(x => { const g = x.figures || {}; return `<tr><td>${esc(L(x.name))}</td><td>${x.standardDays == null ? '–' : num(x.standardDays)}</td><td>${num(g.received)}</td><td>${num(g.completed)}</td><td>${num(g.onTime)}</td><td>${num(g.late)}</td><td>${rate(g)}</td><td>${g.medianDays == null ? '–' : num(Math.round(g.medianDays * 10) / 10)}</td><td>${num(g.backlog)}</td></tr>`; }).join('');
  return `<div class="cards"><div class="card" id="district-oss"><div class="num">${rate(f)}</div><div class="lbl">${esc(t('ossOnTime'))}</div><ul><li>${num(f.received)} ${esc(t('received'))} · ${num(f.completed)} ${esc(t('completed'))}</li><li>${num(f.backlog)} ${esc(t('backlog'))}</li></ul></div></div>
    <div class="table-scroll grid-wrap"><table><thead><tr><th>${esc(t('service'))}</th><th>${esc(t('standardDays'))}</th><th>${esc(t('received'))}</th><th>${esc(t('completed'))}</th><th>${esc(t('onTime'))}</th><th>${esc(t('late'))}</th><th>%</th><th>${esc(t('medianDays'))}</th><th>${esc(t('backlog'))}</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

async function renderCity() {
  const asked = state.fy || Number(params().get('fy'));
  // Without a choice: the latest fiscal year that has measures planned.
  const years = asked ? [asked] : Array.from({ length: currentFy() - 2567 }, (_, i) => currentFy() - i);
  let data = null;
  for (const fy of years) {
    const [overview, gifts, complaints, services] = await Promise.all([
      api(`/v1/city/overview?fy=${fy}`).catch(e => { if (asked) throw e; return null; }),
      api(`/v1/city/gift-register?fy=${fy}&round=FULL_YEAR`).catch(() => ({})),
      api(`/v1/city/complaints?fy=${fy}`).catch(() => ({})),
      api(`/v1/city/services?fy=${fy}`).catch(() => ({})),
    ]);
    if (overview) data = { fy, overview, gifts, complaints, services };
    if (overview && (asked || (overview.totals && overview.totals.planned))) break;
  }
  if (!data) throw new Error('no fiscal year with an ITA framework');
  state.city = data;
  state.fy = data.fy;
  drawCity();
}

function drawCity() {
  const { fy, overview, gifts, complaints, services } = state.city;
  const main = document.getElementById('main');
  const focusedId = document.activeElement && document.activeElement.id;
  const heads = overview.indicators || [];
  let districts = (overview.districts || []).slice();
  const q = state.filter.trim().toLowerCase();
  const total = districts.length;
  if (q) districts = districts.filter(d => d.district.includes(q) || (d.districtName.th || '').toLowerCase().includes(q) || (d.districtName.en || '').toLowerCase().includes(q));
  if (state.onlyAlerts) districts = districts.filter(d => (d.alerts || []).length);
  const key = state.sort;
  const val = d => {
    if (key === 'code') return d.district;
    if (key === 'name') return L(d.districtName);
    if (key === 'alerts') return (d.alerts || []).length;
    if (key === 'progress') return d.progressPercent || 0;
    const ind = (d.indicators || []).find(i => String(i.indicator) === key.slice(4));
    return ind ? ind.progressPercent || 0 : -1;
  };
  districts.sort((a, b) => { const x = val(a), y = val(b); return (x < y ? -1 : x > y ? 1 : 0) * state.sortDir || a.district.localeCompare(b.district); });
  const tot = overview.totals || {};
  const sortBtn = (k, label, title) => `<button type="button" class="sort" data-sort="${k}" title="${esc(title || label)}"${state.sort === k ? ` aria-sort="${state.sortDir > 0 ? 'ascending' : 'descending'}"` : ''}>${esc(label)}</button>`;
  const head = `<tr><th class="dist" scope="col">${sortBtn('name', t('district'))}</th>${heads.map(h => `<th scope="col">${sortBtn('ind-' + h.number, String(h.number), L(h.name))}</th>`).join('')}<th scope="col">${sortBtn('progress', t('overall'))}</th><th scope="col">${sortBtn('alerts', t('alerts'))}</th></tr>`;
  const lang = state.lang === 'en' ? '&lang=en' : '';
  const linkQuery = state.fyChosen ? `?fy=${fy}${lang}` : (lang ? '?lang=en' : '');
  const body = districts.map((d, r) => {
    const href = `/districts/${d.district}${linkQuery}`;
    const cells = heads.map((h, c) => {
      const ind = (d.indicators || []).find(i => i.indicator === h.number) || {};
      const m = ind.measures || {};
      const title = `${L(d.districtName)} · ${L(h.name)}: ${num(m.done)}/${num(m.planned)} ${t('statusDone')}${m.overdue ? `, ${num(m.overdue)} ${t('overdue')}` : ''}`;
      return `<td class="cell ${heat(ind)}"><a href="${href}" data-r="${r}" data-c="${c + 1}" title="${esc(title)}" aria-label="${esc(title)}">${pct(ind)}</a></td>`;
    }).join('');
    const alerts = (d.alerts || []).length;
    const alertTitle = (d.alerts || []).map(a => L(a.message)).join('\n');
    return `<tr data-district="${d.district}"><th class="dist" scope="row"><a href="${href}" data-r="${r}" data-c="0">${esc(L(d.districtName))}</a> <span class="muted">${d.district}</span></th>${cells}<td class="cell ${heat({ measures: d.totals, progressPercent: d.progressPercent })}"><a href="${href}" data-r="${r}" data-c="${heads.length + 1}">${pct({ totals: d.totals, progressPercent: d.progressPercent })}</a></td><td title="${esc(alertTitle)}">${alerts ? `<span class="badge alert">${num(alerts)}</span>` : '0'}</td></tr>`;
  }).join('');
  const legend = [['h0', t('nonePlanned')], ['h1', '0–24%'], ['h2', '25–49%'], ['h3', '50–74%'], ['h4', '75–99%'], ['h5', '100%']]
    .map(([c, l]) => `<span style="--sw: var(--${c})">${esc(l)}</span>`).join('');
  const alertItems = (overview.districts || []).flatMap(d => (d.alerts || []).map(a => ({ d, a }))).slice(0, 30)
    .map(({ d, a }) => `<li><a href="/districts/${d.district}${linkQuery}">${esc(L(d.districtName))}</a>: ${esc(L(a.message))}</li>`).join('');
  main.innerHTML = `
    <h1>${esc(t('cityTitle'))} <span class="muted">· ${esc(L(overview.fiscalYearLabel))}</span></h1>
    <div class="cards">
      <div class="card" id="card-measures"><div class="num">${num(tot.done)} <span class="muted" style="font-size:1rem">${esc(t('of'))} ${num(tot.planned)}</span></div><div class="lbl">${esc(t('measuresDone'))}</div><ul><li>${num(tot.inProgress)} ${esc(t('inProgress'))}</li><li>${num(tot.overdue)} ${esc(t('overdue'))}</li></ul></div>
      ${giftCard(gifts)}
      <div class="card" id="card-complaints"><div class="num">${num(complaints.open)} <span class="muted" style="font-size:1rem">${esc(t('open'))}</span></div><div class="lbl">${esc(t('complaints'))}</div><ul><li>${num(complaints.closed)} ${esc(t('closed'))}</li><li>${num(complaints.received)} ${esc(t('received'))}</li></ul></div>
      ${ossCard(services)}
      <div class="card" id="card-alerts"><div class="num">${num(overview.alerts)}</div><div class="lbl">${esc(t('alertsTotal'))}</div></div>
    </div>
    <div class="controls" role="search">
      ${fySelect(fy)}
      <label>${esc(t('filter'))}<input type="search" id="filter" value="${esc(state.filter)}" autocomplete="off"></label>
      <label>${esc(t('sort'))}<select id="sort">
        ${[['code', 'sortCode'], ['name', 'sortName'], ['progress-asc', 'sortProgressAsc'], ['progress-desc', 'sortProgressDesc'], ['alerts', 'sortAlerts']].map(([v, k]) => `<option value="${v}"${sortValue() === v ? ' selected' : ''}>${esc(t(k))}</option>`).join('')}
      </select></label>
      <label class="check"><input type="checkbox" id="only-alerts"${state.onlyAlerts ? ' checked' : ''}>${esc(t('onlyAlerts'))}</label>
    </div>
    <p class="muted" id="shown-count">${esc(t('districtsShown', { n: districts.length, m: total }))}</p>
    <div class="legend" aria-label="${esc(t('legend'))}"><strong>${esc(t('legend'))}:</strong> ${legend}</div>
    <div class="grid-wrap"><table class="heat" id="city-grid"><caption class="muted" style="text-align:left;padding:.3rem .5rem">${heads.map(h => `${h.number}. ${esc(L(h.name))}`).join(' · ')}</caption><thead>${head}</thead><tbody>${body}</tbody></table></div>
    <h2>${esc(t('alertsList'))}</h2>
    <ul class="alerts">${alertItems}</ul>`;
  bindCity();
  if (focusedId) { const el = document.getElementById(focusedId); if (el) { el.focus(); if (el.setSelectionRange && el.value) el.setSelectionRange(el.value.length, el.value.length); } }
}
function sortValue() {
  if (state.sort === 'progress') return state.sortDir > 0 ? 'progress-asc' : 'progress-desc';
  return ['code', 'name', 'alerts'].includes(state.sort) ? state.sort : '';
}

function bindCity() {
  document.getElementById('fy').onchange = e => { state.fy = Number(e.target.value); state.fyChosen = true; refresh(); };
  document.getElementById('filter').oninput = e => { state.filter = e.target.value; drawCity(); };
  document.getElementById('only-alerts').onchange = e => { state.onlyAlerts = e.target.checked; drawCity(); };
  document.getElementById('sort').onchange = e => {
    const v = e.target.value;
    if (v === 'progress-asc') { state.sort = 'progress'; state.sortDir = 1; }
    else if (v === 'progress-desc') { state.sort = 'progress'; state.sortDir = -1; }
    else { state.sort = v; state.sortDir = v === 'alerts' ? -1 : 1; }
    drawCity();
  };
  document.querySelectorAll('button.sort').forEach(b => {
    b.onclick = () => {
      const k = b.dataset.sort;
      state.sortDir = state.sort === k ? -state.sortDir : (k === 'name' ? 1 : -1);
      state.sort = k;
      drawCity();
      const n = document.querySelector(`button.sort[data-sort="${k}"]`);
      if (n) n.focus();
    };
  });
  // Arrow keys move between the cells of the grid.
  document.getElementById('city-grid').onkeydown = e => {
    const a = e.target.closest('a[data-r]');
    if (!a) return;
    const d = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!d) return;
    const next = document.querySelector(`#city-grid a[data-r="${Number(a.dataset.r) + d[0]}"][data-c="${Number(a.dataset.c) + d[1]}"]`);
    if (next) { e.preventDefault(); next.focus(); }
  };
}

// ------------------------------------------------------------ district page

const STATUS = { PROGRESS_STATUS_DONE: 'done', PROGRESS_STATUS_IN_PROGRESS: 'in_progress', PROGRESS_STATUS_NOT_STARTED: 'not_started', PROGRESS_STATUS_DROPPED: 'dropped' };

async function pickFy(code) {
  const asked = Number(params().get('fy'));
  if (asked) return asked;
  for (let y = currentFy(); y >= 2568; y--) {
    const card = await api(`/v1/districts/${code}/scorecard?fy=${y}`).catch(() => null);
    if (card && !card.empty) return y;
  }
  return currentFy();
}

// Puts the HTML report into a shadow root so its styles stay its own.
function embedReport(host, html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const root = host.shadowRoot || host.attachShadow({ mode: 'open' });
  root.innerHTML = '';
  doc.querySelectorAll('style, link[rel=stylesheet]').forEach(s => root.appendChild(s.cloneNode(true)));
  const wrap = document.createElement('div');
  wrap.className = 'report';
  wrap.innerHTML = doc.body.innerHTML;
  root.appendChild(wrap);
}

function measureTimeline(report) {
  const measures = [];
  for (const tool of report.tools || []) for (const ind of tool.indicators || []) for (const row of ind.rows || []) for (const m of row.measures || []) measures.push(m);
  if (!measures.length) return `<p class="muted">${esc(t('noMeasures'))}</p>`;
  const key = m => m.plannedStart ? m.plannedStart.year * 10000 + m.plannedStart.month * 100 + m.plannedStart.day : 0;
  measures.sort((a, b) => key(a) - key(b) || (a.number || 0) - (b.number || 0));
  return `<ol class="timeline">${measures.map(m => {
    const status = STATUS[m.status] || 'not_started';
    const results = (m.results || []).map(r => `<li><span class="when">${fmtDate(r.reportedAt)}</span> · <span class="badge ${STATUS[r.status] || ''}">${esc(L(r.statusLabel))}</span> ${esc(r.text)}</li>`).join('');
    const evidence = (m.evidence || []).map(e => `<li>${e.uri ? `<a href="${esc(e.uri)}" rel="noreferrer">${esc(e.caption || e.evidenceId)}</a>` : esc(e.caption || e.evidenceId)} <span class="muted">· ${fmtDate(e.attachedAt)} · <code title="SHA-256">${esc((e.sha256Hex || '').slice(0, 12))}…</code></span></li>`).join('');
    return `<li data-measure="${esc(m.measureId)}"><div class="when">${esc(t('planPeriod'))}: ${fmtDate(m.plannedStart)} – ${fmtDate(m.plannedEnd)}${m.responsibleDivision ? ` · ${esc(t('responsible'))}: ${esc(m.responsibleDivision)}` : ''} · ${esc(t('items'))} ${esc((m.itemCodes || []).join(', '))}</div>
      <strong>${esc(m.number ? m.number + '. ' : '')}${esc(m.title || m.text)}</strong> <span class="badge ${status}">${esc(L(m.statusLabel))}</span>
      ${results ? `<div>${esc(t('results'))}:</div><ul>${results}</ul>` : ''}
      ${evidence ? `<div>${esc(t('evidence'))}:</div><ul>${evidence}</ul>` : ''}</li>`;
  }).join('')}</ol>`;
}

function giftsSection(reg) {
  const entries = reg.entries || [];
  const rows = entries.map(g => `<tr><td>${fmtDate(g.receivedOn)}</td><td>${esc(L(g.giverCategoryLabel))}</td><td>${esc(g.description)}</td><td style="text-align:right">${num((g.valueSatang || 0) / 100)}</td><td>${esc(L(g.dispositionLabel))}</td></tr>`).join('');
  const totals = (reg.totals && reg.totals.byDisposition || []).map(g => `${esc(L(g.label))}: ${num(g.count)}`).join(' · ');
  return `<p>${esc(L(reg.title))} ${esc(L(reg.roundLabel))}${reg.personalDataIncluded ? '' : ` · <span class="muted">${esc(t('anonymised'))}</span>`}</p>
    ${entries.length ? `<div class="table-scroll grid-wrap"><table><thead><tr><th>${esc(t('date'))}</th><th>${esc(t('giver'))}</th><th>${esc(t('description'))}</th><th>${esc(t('value'))}</th><th>${esc(t('disposition'))}</th></tr></thead><tbody>${rows}</tbody></table></div><p>${totals}</p>` : `<p class="muted">${esc(t('noGifts'))}</p>`}`;
}

function complaintsSection(c) {
  const cats = (c.byCategory || []).map(g => `<tr><td>${esc(L(g.label))}</td><td>${num(g.received)}</td><td>${num(g.open)}</td><td>${num(g.closed)}</td></tr>`).join('');
  const ages = (c.openAges || []).map(a => `${esc(L(a.label))}: ${num(a.open)}`).join(' · ');
  return `<div class="cards"><div class="card"><div class="num">${num(c.received)}</div><div class="lbl">${esc(t('received'))}</div></div>
    <div class="card"><div class="num">${num(c.open)}</div><div class="lbl">${esc(t('open'))}</div></div>
    <div class="card"><div class="num">${num(c.closed)}</div><div class="lbl">${esc(t('closed'))}</div></div>
    <div class="card"><div class="num">${num(Math.round(c.medianDaysToClose || 0))}</div><div class="lbl">${esc(t('medianClose'))}</div></div></div>
    <p class="muted">${esc(L(c.periodLabel))} · ${esc(t('anonymised'))}</p>
    ${cats ? `<div class="table-scroll grid-wrap"><table><thead><tr><th>${esc(t('byCategory'))}</th><th>${esc(t('received'))}</th><th>${esc(t('open'))}</th><th>${esc(t('closed'))}</th></tr></thead><tbody>${cats}</tbody></table></div>` : ''}
    ${ages ? `<p>${esc(t('openAges'))}: ${ages}</p>` : ''}`;
}

function auditSection(a) {
  const c = a.checkpoint;
  let html = '';
  if (!c) {
    html = `<p>${esc(t('noCheckpoint'))}</p>`;
  } else {
    const behind = (a.records || 0) - (c.treeSize || 0);
    html = `<dl>
      <dt>${esc(t('checkpoint'))}</dt><dd><code>${esc(c.origin)}</code> · ${esc(t('treeSize'))} ${num(c.treeSize)}</dd>
      <dt>${esc(t('root'))}</dt><dd><code>${esc(c.rootBase64)}</code></dd>
      <dt>${esc(t('signature'))}</dt><dd id="audit-signature" class="${c.signatureValid ? 'ok' : 'error'}">${esc(c.signatureValid ? t('valid') : t('invalid'))}${c.problem ? ` (${esc(c.problem)})` : ''} · ${esc(t('checkedAt'))} ${fmtDate(c.checkedAt, true)}</dd>
      <dd>${behind > 0 ? esc(t('notCovered', { n: num(behind) })) : esc(t('covers'))}</dd>
    </dl>
    <details><summary>note</summary><pre>${esc(c.note)}</pre></details>`;
  }
  const file = `${a.stream}.prongsai-export`;
  return `${html}<h3>${esc(t('verifyOffline'))}</h3>
    ${c && a.downloadPath ? `<p><a class="btn" id="audit-download" href="${esc(a.downloadPath)}" download="${esc(file)}">${esc(t('downloadExport'))}</a> ${esc(t('verifySteps'))}</p>` : ''}
    <pre id="audit-commands">${esc(a.exportCommand)}\n${esc(a.verifyCommand)}</pre>
    ${a.verifierKey ? `<p>${esc(t('verifierKey'))}: <code>${esc(a.verifierKey)}</code></p>` : ''}`;
}

async function renderDistrict(code) {
  if (!state.fy) state.fy = await pickFy(code);
  const fy = state.fy;
  if (!state.round) state.round = params().get('round') || currentRound(fy);
  const round = state.round;
  const lang = state.lang === 'en' ? '&lang=en' : '';
  const base = `/v1/districts/${code}`;
  const [report, html, scorecard, meetings, gifts, complaints, audit, services] = await Promise.all([
    api(`${base}/ita-report?fy=${fy}&round=${round}`),
    fetch(`${base}/ita-report?fy=${fy}&round=${round}&format=html${lang}${state.position ? `&min_position=${state.position}&wait=2s` : ''}`, { cache: 'no-store' }).then(r => r.text()),
    api(`${base}/scorecard?fy=${fy}`),
    api(`${base}/meetings?fy=${fy}`),
    api(`${base}/gift-register?fy=${fy}&round=${round}`),
    api(`${base}/complaints?fy=${fy}${round === 'FULL_YEAR' ? '' : `&round=${round}`}`),
    api(`${base}/audit`),
    api(`${base}/services?fy=${fy}`).catch(() => ({})),
  ]);
  const name = L(report.districtName);
  document.title = `${name} · ITA`;
  const main = document.getElementById('main');
  const focusedId = document.activeElement && document.activeElement.id;
  const tot = scorecard.totals || {};
  const mean = scorecard.meanItemScore;
  const meetingItems = (meetings.meetings || []).map(m => `<li><div class="when">${fmtDate(m.date)} · ${esc(t('attendees', { n: num(m.attendees) }))}</div><strong>${esc(m.title)}</strong>${m.agenda.length ? `<ul>${m.agenda.map(x => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}</li>`).join('');
  const dl = f => `${base}/ita-report?fy=${fy}&round=${round}&format=${f}${lang}`;
  main.innerHTML = `
    <p class="no-print"><a href="/${state.lang === 'en' ? '?lang=en' : ''}">${esc(t('back'))}</a></p>
    <h1 id="district-name">${esc(name)} <span class="muted">(${esc(code)})</span></h1>
    <div class="controls">
      ${fySelect(fy)}
      <label>${esc(t('round'))}<select id="round">${['H1', 'H2', 'FULL_YEAR'].map(r => `<option value="${r}"${r === round ? ' selected' : ''}>${r === 'FULL_YEAR' ? (state.lang === 'th' ? 'ทั้งปี' : 'Full year') : r}</option>`).join('')}</select></label>
      <button type="button" class="btn" id="print">${esc(t('print'))}</button>
      <span>${esc(t('download'))}: <a class="btn" href="${dl('html')}">HTML</a> <a class="btn" href="${dl('csv')}">CSV</a> <a class="btn" href="${dl('xlsx')}">XLSX</a></span>
    </div>
    <nav class="sections" aria-label="sections">
      ${[['report', 'report'], ['scorecard', 'scorecard'], ['timeline', 'timeline'], ['meetings', 'meetings'], ['gifts', 'giftRegister'], ['complaints', 'complaints'], ['services', 'oss'], ['audit', 'audit']].map(([id, k]) => `<a class="btn" href="#${id}">${esc(t(k))}</a>`).join('')}
    </nav>
    <section id="report" aria-labelledby="h-report"><h2 id="h-report">${esc(t('report'))}</h2><div class="report-host" id="report-host"></div></section>
    <section id="scorecard" class="secondary"><h2>${esc(t('scorecard'))}</h2>
      ${scorecard.empty ? `<p class="muted">${esc(L(scorecard.note) || t('empty'))}</p>` : ''}
      <div class="cards"><div class="card" id="district-done"><div class="num">${num(tot.done)} <span class="muted" style="font-size:1rem">${esc(t('of'))} ${num(tot.planned)}</span></div><div class="lbl">${esc(t('measuresDone'))}</div><ul><li>${num(tot.inProgress)} ${esc(t('inProgress'))}</li><li>${num(tot.overdue)} ${esc(t('overdue'))}</li></ul></div>
      <div class="card"><div class="num">${mean && mean.value ? num(Math.round(mean.value * 100) / 100) : '–'}</div><div class="lbl">${esc(t('meanScore'))}</div></div></div></section>
    <section id="timeline" class="secondary"><h2>${esc(t('timeline'))}</h2>${measureTimeline(report)}</section>
    <section id="meetings" class="secondary"><h2>${esc(t('meetings'))}</h2>${meetingItems ? `<ol class="timeline">${meetingItems}</ol>` : `<p class="muted">${esc(t('noMeetings'))}</p>`}</section>
    <section id="gifts" class="secondary"><h2>${esc(t('giftRegister'))}</h2>${giftsSection(gifts)}</section>
    <section id="complaints" class="secondary"><h2>${esc(t('complaints'))}</h2>${complaintsSection(complaints)}</section>
    <section id="services" class="secondary"><h2>${esc(t('oss'))}</h2>${servicesSection(services)}</section>
    <section id="audit" class="secondary"><h2>${esc(t('audit'))}</h2>${auditSection(audit)}</section>`;
  embedReport(document.getElementById('report-host'), html);
  document.getElementById('fy').onchange = e => { state.fy = Number(e.target.value); state.round = currentRound(state.fy); refresh(); };
  document.getElementById('round').onchange = e => { state.round = e.target.value; refresh(); };
  document.getElementById('print').onclick = () => window.print();
  if (focusedId) { const el = document.getElementById(focusedId); if (el) el.focus(); }
}

// ------------------------------------------------------------------- start

function start() {
  const asked = params().get('lang');
  let stored = null;
  try { stored = localStorage.getItem('prongsai.lang'); } catch (e) { /* private mode */ }
  setLang(asked || stored || 'th');
  document.getElementById('lang').onclick = () => { setLang(state.lang === 'th' ? 'en' : 'th'); refresh(); };
  state.fyChosen = params().has('fy');
  const m = location.pathname.match(/^\/districts\/(\d{4})\/?$/);
  state.render = m ? () => renderDistrict(m[1]) : renderCity;
  setLive(false);
  refresh();
  startLive();
}
document.addEventListener('DOMContentLoaded', start);
