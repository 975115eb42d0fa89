// pgha web view: reads the REST API of the member that served it (/cluster, /history, /config, /events) and, if
// that member dies, of another member from the last /cluster (CORS, allowed for the cluster's own members only).
// No framework, no build step; every value is written with textContent, never parsed as HTML.
'use strict';
(() => {
  const POLL_MS = 1000;          // fallback refresh; events trigger one at once
  const READ_TIMEOUT_MS = 4000;  // a member that does not answer a read within this is treated as unreachable
  const ACTION_TIMEOUT_MS = 45000; // a switchover is answered once ZooKeeper shows its outcome (Patroni: up to 30 s)
  const FAILURES_BEFORE_SWITCH = 2;
  const MAX_EVENTS = 200;

  let base = '';            // '' = the serving member; else the origin of the member read instead
  let members = [];         // the last /cluster's members
  let cluster = null;
  let failures = 0;
  let busy = false;
  let again = false;
  let events = null;
  let eventsFrom = '';      // the origin the event stream comes from
  let auth = null;          // 'Basic ...' once asked for (restapi.authentication); in memory only, never stored
  let pending = null;       // the action refused with 401, run again once the user and password are given
  const shown = {};         // what each part shows now, as JSON: unchanged data is not redrawn (a click survives)

  const $ = (id) => document.getElementById(id);
  const origin = () => base || location.origin;
  const clock = (d) => d.toLocaleTimeString([], { hour12: false });

  function originOf(url) {
    try { return new URL(url).origin; } catch (e) { return null; }
  }

  function nameAt(o) {
    const m = members.find((x) => originOf(x.api_url) === o);
    return m ? m.name : o;
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  /**
   * One request; rejects with .unreachable when no HTTP answer came, or .status + .text for a non-2xx one.
   * Reads (GET, never checked by the API) go as they are. Actions carry the page's own Authorization header once the
   * user gave it, to whichever member they go, and no browser credentials: a 401 then never brings up the browser's
   * own login prompt (which it shows for this origin only) but the page's form, and the same header works on every
   * member, the one serving the page or another after a reconnection (CORS allows it for members' origins only).
   */
  async function request(target, path, method, body, timeoutMs) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    const action = method !== 'GET';
    const init = {
      method: method,
      cache: 'no-store',
      signal: ctrl.signal,
      credentials: action ? 'omit' : target === location.origin ? 'same-origin' : 'include',
      headers: {},
    };
    if (action && auth) init.headers['Authorization'] = auth;
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let resp;
    try {
      resp = await fetch(target + path, init);
    } catch (e) {
      const err = new Error(ctrl.signal.aborted ? 'no answer within ' + timeoutMs + ' ms' : 'cannot connect');
      err.unreachable = true;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const text = await resp.text();
    if (!resp.ok) {
      const err = new Error(resp.status + ' ' + text.trim());
      err.status = resp.status;
      err.text = text.trim();
      throw err;
    }
    return text;
  }

  async function read(target, path) {
    return JSON.parse(await request(target, path, 'GET', undefined, READ_TIMEOUT_MS));
  }

  // ------------------------------------------------------------------------------------------------ refreshing

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const target = origin();
      const [c, h, cfg] = await Promise.all([
        read(target, '/cluster'),
        read(target, '/history').catch(() => null),
        read(target, '/config').catch(() => null),
      ]);
      failures = 0;
      renderCluster(c);
      if (h && changed('history', h)) renderHistory(h);
      if (cfg && changed('config', cfg)) $('config').textContent = JSON.stringify(cfg, null, 2);
      $('updated').textContent = 'updated ' + clock(new Date());
    } catch (e) {
      failures++;
      $('updated').textContent = 'cannot read the cluster from ' + nameAt(origin()) + ': ' + e.message;
      if (failures >= FAILURES_BEFORE_SWITCH) await switchMember(e.message);
    } finally {
      busy = false;
      if (again) { again = false; setTimeout(refresh, 0); }
    }
  }

  /** Reads the cluster from another member of the last /cluster, the leader first; says so in the banner. */
  async function switchMember(why) {
    const lost = origin();
    const lostName = nameAt(lost);
    const ordered = members.slice().sort((a, b) => (b.role === 'leader') - (a.role === 'leader'));
    for (const m of ordered) {
      const o = originOf(m.api_url);
      if (!o || o === lost) continue;
      try {
        const c = await read(o, '/cluster');
        base = o === location.origin ? '' : o;
        failures = 0;
        showBanner(lostName, lost, why, m.name, o);
        renderCluster(c);
        openEvents();
        return;
      } catch (e) { /* try the next member */ }
    }
    const banner = $('banner');
    banner.hidden = false;
    banner.textContent = 'Lost ' + lostName + ' (' + lost + '): ' + why + '. No other member answers; retrying.';
  }

  function showBanner(lostName, lost, why, name, o) {
    const banner = $('banner');
    banner.replaceChildren(
      el('span', 'Lost ' + lostName + ' (' + lost + '): ' + why + '. Reconnected to ' + name + ' (' + o + ') at '
        + clock(new Date()) + '. '));
    const link = el('a', 'Open ' + name + "'s own page");
    link.href = o + '/ui/';
    banner.append(link);
    banner.hidden = false;
    banner.dataset.member = name;
    $('source').textContent = 'via ' + name + ' (' + o + ')';
  }

  // --------------------------------------------------------------------------------------------------- rendering

  function lagMb(m) {
    if (typeof m.lag === 'number') return Math.round(m.lag / 1048576);
    return m.lag === undefined ? '' : m.lag;
  }

  function tags(t) {
    if (!t || typeof t !== 'object') return '';
    return Object.keys(t).map((k) => k + ': ' + JSON.stringify(t[k])).join(', ');
  }

  function scheduledRestart(r) {
    if (!r) return '';
    if (typeof r !== 'object') return String(r);
    return (r.schedule || '') + (r.postgres_version ? ' if version < ' + r.postgres_version : '');
  }

  function changed(part, value) {
    const json = JSON.stringify(value);
    if (shown[part] === json) return false;
    shown[part] = json;
    return true;
  }

  function renderCluster(c) {
    cluster = c;
    members = Array.isArray(c.members) ? c.members : [];
    if (!changed('cluster', [c, base])) return;
    $('scope').textContent = c.scope || 'cluster';
    document.title = 'pgha ' + (c.scope || 'cluster');
    if (!base) $('source').textContent = 'via ' + nameAt(location.origin) + ' (' + location.origin + ')';
    const state = $('events-state'); // opened before the first /cluster named the members
    if (state.textContent.startsWith('(live from ')) state.textContent = '(live from ' + nameAt(eventsFrom) + ')';
    const leader = members.find((m) => m.role === 'leader' || m.role === 'standby_leader');
    const rows = members.map((m) => {
      const tr = el('tr');
      tr.dataset.member = m.name;
      tr.dataset.role = m.role;
      if (m === leader) tr.className = 'leader';
      const host = (m.host || '') + (m.port ? ':' + m.port : '');
      const state = m.state || '';
      const cells = [
        el('td', m.name, 'name'),
        el('td', host),
        el('td', (m.role || '').replace('_', ' '), 'role role-' + (m.role || '')),
        el('td', state, 'state' + (/running|streaming/.test(state) ? '' : ' state-bad')),
        el('td', m.timeline === undefined ? '' : m.timeline, 'num'),
        el('td', lagMb(m), 'num'),
        el('td', m.pending_restart ? '*' : '', 'pending'),
        el('td', scheduledRestart(m.scheduled_restart)),
        el('td', tags(m.tags), 'tags'),
      ];
      const actions = el('td', null, 'actions');
      if (leader && m !== leader) {
        actions.append(button('Switch over here', 'switchover', () => switchover(leader.name, m.name)));
      }
      actions.append(button('Restart', 'restart', () => memberAction(m, 'restart')));
      if (m !== leader) actions.append(button('Reinitialize', 'reinitialize', () => memberAction(m, 'reinitialize')));
      cells.push(actions);
      tr.append(...cells);
      return tr;
    });
    $('members').tBodies[0].replaceChildren(...rows);
    $('paused').hidden = !c.pause;
    $('pause').hidden = !!c.pause;
    $('resume').hidden = !c.pause;
    const s = c.scheduled_switchover;
    $('scheduled').hidden = !s;
    if (s) $('scheduled').textContent = 'Switchover scheduled at ' + s.at + (s.from ? ' from ' + s.from : '')
      + (s.to ? ' to ' + s.to : '');
  }

  function button(label, action, onClick) {
    const b = el('button', label);
    b.type = 'button';
    b.dataset.action = action;
    b.addEventListener('click', onClick);
    return b;
  }

  function renderHistory(h) {
    const items = (Array.isArray(h) ? h : []).slice().reverse().map((e) => {
      // [timeline, lsn, reason, timestamp, new leader]: the timeline that ended, where, and who leads the next one
      const li = el('li');
      li.append(el('span', e[3] || '', 'time'), el('span', 'TL ' + (Number(e[0]) + 1), 'type'),
        el('span', e[4] || '?', 'member'), el('span', 'after TL ' + e[0] + ' ended at LSN ' + e[1]
          + (e[2] ? ' (' + e[2] + ')' : ''), 'reason'));
      return li;
    });
    $('history').replaceChildren(...items);
  }

  function describe(ev) {
    switch (ev.type) {
      case 'decision':
        return ev.line || [ev.action, ev.reason && '[' + ev.reason + ']', ev.message, ev.trigger && '(woken by '
          + ev.trigger + ')'].filter(Boolean).join(' ');
      case 'role_changed': return (ev.from || '?') + ' -> ' + (ev.to || '?') + (ev.timeline ? ' on TL ' + ev.timeline : '');
      case 'state_changed': return (ev.from || '?') + ' -> ' + (ev.to || '?');
      case 'leader_lock': return ev.held ? 'took the leader key' : 'lost the leader key';
      case 'switchover': return [ev.phase, ev.leader && 'from ' + ev.leader, ev.candidate && 'to ' + ev.candidate,
        ev.message].filter(Boolean).join(' ');
      case 'failover': return 'took over from ' + (ev.previous_leader || '?')
        + (ev.duration_ms !== undefined ? ' in ' + ev.duration_ms + ' ms' : '');
      default: {
        const rest = Object.assign({}, ev);
        delete rest.type; delete rest.member; delete rest.ts;
        return JSON.stringify(rest);
      }
    }
  }

  function addEvent(ev) {
    const li = el('li');
    li.dataset.type = ev.type || '';
    const ts = ev.ts ? new Date(ev.ts) : new Date();
    li.append(el('span', clock(ts), 'time'), el('span', ev.member || '', 'member'), el('span', ev.type || '', 'type'),
      el('span', describe(ev), 'reason'));
    const list = $('events');
    list.prepend(li);
    while (list.children.length > MAX_EVENTS) list.lastChild.remove();
  }

  function openEvents() {
    if (events) events.close();
    const state = $('events-state');
    const from = origin();
    eventsFrom = from;
    state.textContent = '(connecting to ' + nameAt(from) + ')';
    const es = new EventSource(from + '/events', { withCredentials: !!base });
    events = es;
    es.onopen = () => { if (events === es) state.textContent = '(live from ' + nameAt(from) + ')'; };
    es.onmessage = (m) => {
      try { addEvent(JSON.parse(m.data)); } catch (e) { return; }
      refresh();
    };
    es.onerror = () => {
      if (events !== es) return;
      state.textContent = es.readyState === EventSource.CLOSED ? '(closed)' : '(reconnecting)';
      refresh();
      if (es.readyState === EventSource.CLOSED) setTimeout(() => { if (events === es) openEvents(); }, 3000);
    };
  }

  // ----------------------------------------------------------------------------------------------------- actions

  function result(text, ok) {
    const r = $('result');
    r.textContent = text;
    r.className = 'result ' + (ok ? 'ok' : 'refused');
  }

  async function act(target, path, method, body, what) {
    result(what + ' ...', true);
    try {
      const text = await request(target, path, method, body, ACTION_TIMEOUT_MS);
      const answer = text.trim();
      result(what + ': ' + (answer === '' || answer.startsWith('{') ? 'done' : answer), true); // PATCH: the config
    } catch (e) {
      result(what + ' refused: ' + (e.text !== undefined ? e.status + ' ' + e.text : e.message), false);
      if (e.status === 401) askLogin(nameAt(target), !!auth, () => act(target, path, method, body, what));
    }
    refresh();
  }

  // ------------------------------------------------------------------------------------------------------ login

  /** Shows the form for the REST API's user and password; {@code retry} runs once they are given. */
  function askLogin(member, wrong, retry) {
    pending = retry;
    $('login-why').textContent = member + (wrong ? ' refused that user and password (401); try again:'
      : ' asks for the REST API\'s user and password (restapi.authentication):');
    $('login').hidden = false;
    $('login-user').focus();
  }

  /** Basic credentials as the API checks them: base64 of the UTF-8 bytes of user:password. */
  function basic(user, password) {
    const bytes = new TextEncoder().encode(user + ':' + password);
    let binary = '';
    bytes.forEach((b) => { binary += String.fromCharCode(b); });
    return 'Basic ' + btoa(binary);
  }

  $('login').addEventListener('submit', (e) => {
    e.preventDefault(); // nothing is submitted anywhere (the policy allows no form action): the page keeps them
    auth = basic($('login-user').value, $('login-password').value);
    $('login-password').value = '';
    $('login').hidden = true;
    const retry = pending;
    pending = null;
    if (retry) retry();
  });
  $('login-cancel').addEventListener('click', () => {
    pending = null;
    $('login-password').value = '';
    $('login').hidden = true;
  });

  function switchover(leader, candidate) {
    if (!confirm('Are you sure you want to switchover cluster ' + (cluster && cluster.scope) + ', demoting current leader '
        + leader + ' in favour of ' + candidate + '?')) return;
    act(origin(), '/switchover', 'POST', { leader: leader, candidate: candidate }, 'Switchover to ' + candidate);
  }

  function memberAction(m, what) {
    const o = originOf(m.api_url);
    if (!o) { result(what + ' ' + m.name + ': no api_url in the cluster', false); return; }
    if (!confirm('Are you sure you want to ' + what + ' member ' + m.name + '?')) return;
    act(o, '/' + what, 'POST', {}, what.charAt(0).toUpperCase() + what.slice(1) + ' ' + m.name);
  }

  function pause(on) {
    if (!confirm('Are you sure you want to ' + (on ? 'pause' : 'resume') + ' cluster ' + (cluster && cluster.scope) + '?')) return;
    // as patronictl: {"pause": true} to pause, {"pause": null} (the key removed) to resume
    act(origin(), '/config', 'PATCH', { pause: on ? true : null }, on ? 'Pause' : 'Resume');
  }

  $('pause').addEventListener('click', () => pause(true));
  $('resume').addEventListener('click', () => pause(false));
  refresh();
  openEvents();
  setInterval(refresh, POLL_MS);
})();
