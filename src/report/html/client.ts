/**
 * The report page's own script, as text inlined into the HTML (plain ES2017 for any browser; it
 * runs in the page, not in Node). It reads the data element, draws the charts with uPlot, keeps
 * one time cursor for both charts, and shows the census at the cursor. The address's fragment
 * says what to show: `#t=SECONDS` (a moment, seconds from the first packet) and `#flow=N` (a
 * connection's ladder), so a view can be linked and the tests can drive the page.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var errors = [];
  function fail(text) {
    errors.push(String(text));
    document.body.setAttribute('data-errors', String(errors.length));
    var pre = document.getElementById('errors');
    pre.hidden = false;
    pre.textContent = errors.join('\n');
  }
  window.addEventListener('error', function (e) { fail(e.message); });
  var consoleError = console.error;
  console.error = function () { fail(Array.prototype.join.call(arguments, ' ')); consoleError.apply(console, arguments); };

  var D = JSON.parse(document.getElementById('data').textContent);
  var COLOURS = { SYN_SENT: '#f2c14e', SYN_RECEIVED: '#f78154', ESTABLISHED: '#4d9078', FIN_WAIT_1: '#b4d6d3', FIN_WAIT_2: '#5fad56',
    CLOSE_WAIT: '#d7263d', CLOSING: '#8e6c8a', LAST_ACK: '#a288e3', TIME_WAIT: '#7aa5d2' };
  var SEVERITY = { error: '#d7263d', warning: '#f08a24', note: '#7a7a9d', info: '#9aa' };
  var idx = D.times.length - 1;
  var hostIdx = 0;
  var states = null, events = null;

  function fmt(n) { return n == null ? '' : Math.round(n).toLocaleString('en-US'); }
  function iso(s) {
    var us = D.t0 + Math.round(s * 1e6);
    var d = new Date(Math.floor(us / 1000));
    return d.toISOString().slice(0, 19).replace('T', ' ') + '.' + String(us % 1e6).padStart(6, '0') + 'Z';
  }
  function nearest(t) {
    var best = 0;
    for (var k = 1; k < D.times.length; k++) if (Math.abs(D.times[k] - t) < Math.abs(D.times[best] - t)) best = k;
    return best;
  }
  function width(el) { return Math.max(480, el.clientWidth || 900); }

  // Stacked areas: each series is the sum of its state and those below it; drawn top first so
  // that each lower one covers the part of the upper one under it. The legend shows the state's own count.
  function stateData(h) {
    var host = D.hosts[h];
    var present = [];
    host.counts.forEach(function (c, s) { if (c) present.push(s); });
    var cum = [], sum = D.times.map(function () { return 0; });
    present.forEach(function (s) {
      sum = sum.map(function (v, k) { return v + host.counts[s][k]; });
      cum.push(sum);
    });
    return { present: present, data: [D.times].concat(cum.slice().reverse()) };
  }

  function drawStates() {
    var el = document.getElementById('states');
    el.textContent = '';
    var sd = stateData(hostIdx);
    var host = D.hosts[hostIdx];
    var order = sd.present.slice().reverse();
    var series = [{ label: 'time (s)', value: function (u, v) { return v == null ? '' : '+' + v.toFixed(3); } }];
    order.forEach(function (s) {
      var name = D.rfc[s];
      series.push({ label: D.states[s], stroke: COLOURS[name], fill: COLOURS[name], width: 1, points: { show: false },
        value: function (u, v, si, i) { return i == null ? '' : fmt(host.counts[s][i]); } });
    });
    if (order.length === 0) {
      el.textContent = 'No socket was open on ' + (host.host || 'any host') + ' during the capture.';
      states = null;
      return;
    }
    states = new uPlot({ width: width(el), height: 280, cursor: { sync: { key: 'time' } }, legend: { live: true },
      scales: { x: { time: false } }, axes: [{ label: 'seconds since the first packet' }, { label: 'sockets' }],
      series: series, hooks: { setCursor: [onCursor] } }, sd.data, el);
    track(states);
  }

  function drawMarks(u) {
    var ctx = u.ctx;
    ctx.save();
    D.marks.forEach(function (m) {
      var x = u.valToPos(m.t, 'x', true);
      if (x < u.bbox.left - 1 || x > u.bbox.left + u.bbox.width + 1) return;
      var y = u.bbox.top;
      ctx.fillStyle = SEVERITY[m.severity] || '#999';
      ctx.beginPath();
      ctx.moveTo(x, y + 12 * devicePixelRatio);
      ctx.lineTo(x - 6 * devicePixelRatio, y);
      ctx.lineTo(x + 6 * devicePixelRatio, y);
      ctx.closePath();
      ctx.fill();
    });
    ctx.restore();
  }

  function markAt(u, left) {
    var best = null, dist = 7;
    D.marks.forEach(function (m) {
      var d = Math.abs(u.valToPos(m.t, 'x') - left);
      if (d < dist) { dist = d; best = m; }
    });
    return best;
  }

  function drawEvents() {
    var el = document.getElementById('events');
    var perSecond = 1e6 / D.step;
    function rate(a) { return a.map(function (n) { return n * perSecond; }); }
    var raw = [D.events.connections, D.events.resets, D.events.retransmissions];
    var names = ['new connections/s', 'resets/s', 'retransmissions/s'];
    var colours = ['#4d9078', '#d7263d', '#f08a24'];
    var series = [{ label: 'time (s)', value: function (u, v) { return v == null ? '' : '+' + v.toFixed(3); } }];
    names.forEach(function (n, j) {
      series.push({ label: n, stroke: colours[j], width: 1.5, points: { show: false },
        value: function (u, v, si, i) { return i == null ? '' : fmt(v) + ' (' + fmt(raw[j][i]) + ')'; } });
    });
    events = new uPlot({ width: width(el), height: 220, cursor: { sync: { key: 'time' } },
      scales: { x: { time: false } }, axes: [{ label: 'seconds since the first packet' }, { label: 'per second' }],
      series: series, hooks: { setCursor: [onCursor], draw: [drawMarks] } },
      [D.times, rate(raw[0]), rate(raw[1]), rate(raw[2])], el);
    track(events);
    var tip = document.getElementById('tip');
    events.over.addEventListener('mousemove', function (e) {
      var m = markAt(events, e.offsetX);
      if (m === null) { tip.hidden = true; return; }
      tip.hidden = false;
      tip.textContent = m.kind + ' (' + m.severity + ') +' + m.t.toFixed(6) + ' s' + (m.flow ? ', flow ' + m.flow : '') + ': ' + m.message;
      tip.style.left = (e.pageX + 12) + 'px';
      tip.style.top = (e.pageY + 12) + 'px';
    });
    events.over.addEventListener('mouseleave', function () { tip.hidden = true; });
    events.over.addEventListener('click', function (e) {
      var m = markAt(events, e.offsetX);
      if (m !== null && m.flow) location.hash = 'flow=' + m.flow;
    });
  }

  // Only a pointer over a chart moves the moment; a cursor placed from the address follows it.
  var pointer = false;
  function track(u) {
    u.over.addEventListener('mouseenter', function () { pointer = true; });
    u.over.addEventListener('mouseleave', function () { pointer = false; });
  }
  function onCursor(u) {
    if (!pointer) return;
    if (u.cursor.idx != null && u.cursor.idx !== idx) { idx = u.cursor.idx; census(); }
  }

  function census() {
    var head = document.getElementById('census-at');
    head.textContent = '+' + D.times[idx].toFixed(6) + ' s, ' + iso(D.times[idx]);
    var table = document.getElementById('census');
    table.setAttribute('data-t', String(D.times[idx]));
    table.setAttribute('data-idx', String(idx));
    var used = [];
    D.rfc.forEach(function (name, s) { if (D.hosts.some(function (h) { return h.counts[s]; })) used.push(s); });
    var html = '<tr><th>host</th>' + used.map(function (s) { return '<th>' + D.states[s] + '</th>'; }).join('') + '<th>sockets</th></tr>';
    D.hosts.forEach(function (h, j) {
      var total = 0;
      var cells = used.map(function (s) {
        var n = h.counts[s] ? h.counts[s][idx] : 0;
        total += n;
        return '<td data-state="' + D.rfc[s] + '">' + (n ? fmt(n) : '') + '</td>';
      }).join('');
      if (j > 0 && total === 0) return;
      html += '<tr data-host="' + (h.host || '*') + '"' + (j === hostIdx ? ' class="picked"' : '') + '><td>' + (h.host || 'all hosts') + '</td>' + cells + '<td>' + fmt(total) + '</td></tr>';
    });
    table.innerHTML = html;
  }

  function showFlow(n, scroll) {
    var shown = null;
    Array.prototype.forEach.call(document.querySelectorAll('section.ladder'), function (s) {
      s.hidden = s.getAttribute('data-flow') !== String(n);
      if (!s.hidden) shown = s;
    });
    var none = document.getElementById('no-ladder');
    none.hidden = shown !== null || n === null;
    if (n !== null && shown === null) none.textContent = 'Flow ' + n + ' has no ladder in this report (tcpstate report --ladders N draws more); tcpstate flow DB ' + n + ' shows it.';
    if (shown && scroll) shown.scrollIntoView();
  }

  function route(e) {
    var h = location.hash.replace(/^#/, '');
    var t = /(?:^|&)t=([0-9.]+)/.exec(h);
    var f = /(?:^|&)flow=([0-9]+)/.exec(h);
    if (t) {
      idx = nearest(Number(t[1]));
      census();
      requestAnimationFrame(function () {
        [states, events].forEach(function (u) { if (u) u.setCursor({ left: u.valToPos(D.times[idx], 'x'), top: 10 }); });
      });
    }
    showFlow(f ? Number(f[1]) : null, e !== undefined);
  }

  var picker = document.getElementById('host');
  D.hosts.forEach(function (h, j) {
    var o = document.createElement('option');
    o.value = String(j);
    o.textContent = (h.host || 'all hosts') + ' (at most ' + fmt(h.peak) + ' sockets)';
    picker.appendChild(o);
  });
  picker.addEventListener('change', function () {
    hostIdx = Number(picker.value);
    if (states) states.destroy();
    drawStates();
    census();
  });
  document.getElementById('states').addEventListener('click', function () { location.hash = 't=' + D.times[idx]; });

  drawStates();
  drawEvents();
  census();
  route(undefined);
  window.addEventListener('hashchange', route);
  document.body.setAttribute('data-ready', '1');
  document.body.setAttribute('data-ms', String(Math.round(performance.now())));
})();
`;
