/* dialogd — the chat widget's conversation, loaded by widget.js on the first click (or at
 * once when this tab or browser holds a conversation). It speaks the protocol of
 * README.md, "Chat protocol": every message the visitor sends has a client id and waits in
 * an outbox until dialogd acknowledges it; every event has a number, is shown once, and a
 * reconnection asks for those after the last one shown. No framework, no inline script or
 * style, no eval: the host page's CSP may be strict. French throughout (vouvoiement). */
(function () {
  'use strict';
  const w = window.dialogdWidget;
  if (!w || w.start) return;
  const config = w.config;
  const root = w.root;
  const launcher = w.launcher;
  const PROTOCOL = 'dialogd.chat.v1';
  const OFFLINE = 'Hors ligne : vos messages partiront dès le retour du réseau.';
  const KEYS = ['dialogd.active', 'dialogd.open', 'dialogd.session', 'dialogd.outbox'];
  const sharedByTabs = config.persistence === 'browser';

  /* ---- the device's storage (sessionStorage, or localStorage when shared by tabs) ---- */

  const store = (function () {
    try {
      const s = sharedByTabs ? window.localStorage : window.sessionStorage;
      s.setItem('dialogd.probe', '1');
      s.removeItem('dialogd.probe');
      return s;
    } catch (e) {
      /* Refused (private mode, a policy): the conversation lasts as long as the page. */
      const m = new Map();
      return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
    }
  })();

  function readOutbox() {
    try {
      const list = JSON.parse(store.getItem('dialogd.outbox') || '[]');
      return Array.isArray(list) ? list.filter((m) => m && typeof m.id === 'string') : [];
    } catch (e) {
      return [];
    }
  }

  /* ---- the panel ---- */

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  const closeButton = el('button', { type: 'button', class: 'close', 'aria-label': 'Fermer la fenêtre de dialogue', text: '×' });
  const status = el('div', { role: 'status', class: 'status' });
  const log = el('div', {
    role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Messages de la conversation',
    tabindex: '0', class: 'log'
  });
  const quick = el('div', { class: 'quick', role: 'group', 'aria-label': 'Réponses proposées' });
  const input = el('textarea', {
    id: 'dialogd-input', rows: '2', class: 'input', autocomplete: 'off', 'aria-describedby': 'dialogd-hint',
    enterkeyhint: 'send'
  });
  const form = el('form', { class: 'compose' },
    el('label', { for: 'dialogd-input', class: 'label', text: 'Votre message' }),
    el('div', { class: 'row' }, input, el('button', { type: 'submit', class: 'send', text: 'Envoyer' })),
    el('p', { id: 'dialogd-hint', class: 'hint', text: 'Entrée pour envoyer, Maj + Entrée pour aller à la ligne.' }));
  const transcriptButton = el('button', { type: 'button', class: 'link', text: 'Recevoir cette conversation par mail' });
  const endButton = el('button', { type: 'button', class: 'link', text: 'Terminer et effacer' });
  const panel = el('section', { class: 'panel', id: 'dialogd-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'dialogd-title' },
    el('header', { class: 'top' }, el('h2', { id: 'dialogd-title', text: 'Dialoguer avec OCAPIAT' }), closeButton),
    status, log, quick, form,
    el('div', { class: 'actions' }, transcriptButton, endButton),
    el('p', {
      class: 'privacy',
      text: 'Vos messages sont conservés par OCAPIAT pour traiter votre demande, au plus ' + config.retentionDays +
        ' jours. « Terminer et effacer » les retire de cet appareil.'
    }));
  panel.hidden = true;
  root.append(panel);
  launcher.setAttribute('aria-controls', 'dialogd-panel');

  const authors = { visitor: 'Vous', bot: 'Assistant OCAPIAT', person: 'Conseiller OCAPIAT' };
  const URL_PATTERN = /(https?:\/\/[^\s<>"«»]*[^\s<>"«».,;:!?)»])/;

  /* Text with its web addresses as links (built as nodes: nothing is parsed as HTML). */
  function rich(text) {
    const parts = String(text).split(URL_PATTERN);
    return parts.map((p, i) => (i % 2 === 1
      ? el('a', { href: p, target: '_blank', rel: 'noopener noreferrer', text: p })
      : document.createTextNode(p)));
  }

  function bubble(from, text, extra) {
    const who = authors[from] ? from : 'bot';
    return el('div', Object.assign({ class: 'msg ' + who }, extra || {}),
      el('span', { class: 'sr', text: authors[who] + ' : ' }), ...rich(text));
  }

  /* New lines go before the messages still being sent (which stay last). */
  function addLine(node) {
    log.insertBefore(node, log.querySelector('.pending'));
    log.scrollTop = log.scrollHeight;
  }

  function setStatus(text) {
    if (status.textContent !== text) status.textContent = text;
    relay({ t: 'status', text });
  }

  function showQuickReplies(labels) {
    const hadFocus = root.activeElement && quick.contains(root.activeElement);
    quick.replaceChildren(...labels.filter((l) => typeof l === 'string' && l).map((label) =>
      el('button', { type: 'button', class: 'choice', text: label, onclick: () => { send('message', label); input.focus(); } })));
    quick.hidden = quick.childElementCount === 0;
    if (hadFocus) input.focus();
  }

  function greet() {
    log.append(bubble('bot', 'Bonjour ! Quelle est votre question ? Je peux vous aider sur la connexion à votre espace, ' +
      'vos dossiers, vos factures, vos contrats en alternance ou vos reportings.', { 'data-local': '' }));
  }

  /* ---- unread lines and the sound (one tab plays it) ---- */

  let unread = 0;
  let audio = null;
  function markUnread(from) {
    if (!panel.hidden && !document.hidden) return;
    if (!panel.hidden) {
      /* Shown but in a background tab: only the sound. */
    } else {
      unread++;
      w.launcherLabel.textContent = 'Dialoguer avec OCAPIAT (' + unread + (unread > 1 ? ' nouveaux messages)' : ' nouveau message)');
    }
    if (from === 'person' && leader && audio) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      g.gain.value = 0.05;
      o.frequency.value = 880;
      o.connect(g).connect(audio.destination);
      o.start();
      o.stop(audio.currentTime + 0.15);
    }
  }

  function openPanel(focus) {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    store.setItem('dialogd.open', '1');
    unread = 0;
    w.launcherLabel.textContent = 'Dialoguer avec OCAPIAT';
    if (!audio && focus && window.AudioContext) {
      try { audio = new AudioContext(); } catch (e) { audio = null; }
    }
    fitViewport();
    log.scrollTop = log.scrollHeight;
    if (focus) input.focus();
    connect();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    store.setItem('dialogd.open', '0');
    launcher.focus();
  }

  /* On a phone the panel fills what the visual viewport shows (the keyboard takes the rest). */
  function fitViewport() {
    const vv = window.visualViewport;
    if (!vv || !window.matchMedia('(max-width: 480px)').matches) {
      panel.style.removeProperty('height');
      panel.style.removeProperty('top');
      return;
    }
    panel.style.height = vv.height + 'px';
    panel.style.top = vv.offsetTop + 'px';
  }
  if (window.visualViewport) {
    window.visualViewport.addEventListener('resize', fitViewport);
    window.visualViewport.addEventListener('scroll', fitViewport);
  }

  /* ---- the outbox ---- */

  let outbox = readOutbox();

  function saveOutbox() {
    if (leader) store.setItem('dialogd.outbox', JSON.stringify(outbox));
  }

  function pendingLine(item) {
    const node = bubble('visitor', item.type === 'transcript' ? 'Recevoir cette conversation par mail' : item.text,
      { 'aria-hidden': 'true', 'data-id': item.id });
    node.classList.add('pending');
    node.append(el('span', { class: 'sending', text: ' (envoi…)' }));
    return node;
  }

  function newId() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function send(type, text) {
    const item = { type, id: newId() };
    if (type === 'message') item.text = text;
    store.setItem('dialogd.active', '1');
    enqueue(item);
    if (!leader) channel.postMessage({ t: 'send', item });
  }

  function enqueue(item) {
    if (outbox.some((m) => m.id === item.id)) return;
    outbox.push(item);
    saveOutbox();
    log.append(pendingLine(item));
    log.scrollTop = log.scrollHeight;
    if (ready) transmit(item);
    else connect();
  }

  function transmit(item) {
    ws.send(JSON.stringify(item.type === 'transcript' ? { type: 'transcript', id: item.id }
      : { type: 'message', id: item.id, text: item.text }));
  }

  function acknowledged(id) {
    outbox = outbox.filter((m) => m.id !== id);
    saveOutbox();
    for (const node of log.querySelectorAll('.pending')) if (node.getAttribute('data-id') === id) node.remove();
  }

  /* ---- the socket (one per tab, or one for all tabs when they share the conversation) ---- */

  let ws = null;
  let ready = false;        /* the welcome came: frames may be sent */
  let shown = 0;            /* the last event number shown */
  let replayTo = 0;         /* events up to this one are history, not news */
  let attempt = 0;
  let retryTimer = 0;
  let resendTimer = 0;
  let ackTimer = 0;
  let started = false;
  let session = store.getItem('dialogd.session');
  const eventLog = [];       /* the events, kept by the tab holding the socket for the tabs that open later */

  function chatUrl() {
    const u = new URL('chat', w.base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.href;
  }

  function connect() {
    started = true;
    if (!leader) {
      channel.postMessage({ t: 'sync', shown });
      return;
    }
    if (ws) return;
    clearTimeout(retryTimer);
    if (!navigator.onLine) {
      setStatus(OFFLINE);
      return;
    }
    setStatus(shown > 0 || session ? 'Reconnexion…' : 'Connexion…');
    let sock;
    try {
      sock = new WebSocket(chatUrl(), PROTOCOL);
    } catch (e) {
      retryLater();
      return;
    }
    ws = sock;
    sock.onopen = () => {
      const hello = { type: 'hello', session: session || null, last_seq: shown };
      if (w.identity) hello.identity = w.identity;
      sock.send(JSON.stringify(hello));
    };
    sock.onmessage = (e) => {
      if (sock !== ws) return;
      let f;
      try { f = JSON.parse(e.data); } catch (x) { return; }
      if (f && typeof f === 'object') {
        receive(f);
        relay({ t: 'frame', f });
      }
    };
    sock.onclose = () => {
      if (sock !== ws) return;
      ws = null;
      ready = false;
      retryLater();
    };
  }

  /* Backoff with jitter: 1, 2, 4… up to 30 s, each drawn from its upper half. */
  function retryLater() {
    clearTimeout(retryTimer);
    if (!navigator.onLine) {
      setStatus(OFFLINE);
      return;
    }
    const ceiling = Math.min(30000, 1000 * 2 ** Math.min(attempt++, 5));
    setStatus('Reconnexion…');
    retryTimer = setTimeout(connect, ceiling / 2 + Math.random() * ceiling / 2);
  }

  function drop() {
    if (!ws) return;
    const s = ws;
    ws = null;
    ready = false;
    s.close();
  }

  window.addEventListener('offline', () => {
    if (!leader) return;
    drop();
    clearTimeout(retryTimer);
    setStatus(OFFLINE);
  });
  window.addEventListener('online', () => {
    if (!leader || !started) return;
    attempt = 0;
    connect();
  });

  function ackSoon() {
    clearTimeout(ackTimer);
    ackTimer = setTimeout(() => { if (ready && leader) ws.send(JSON.stringify({ type: 'ack', seq: shown })); }, 250);
  }

  function resendSoon(ms) {
    clearTimeout(resendTimer);
    resendTimer = setTimeout(() => { if (ready) outbox.forEach(transmit); }, ms);
  }

  const notes = {
    handoff: 'Votre demande est transmise à un conseiller.',
    person: 'Un conseiller a rejoint la conversation.',
    bot: 'L’assistant reprend la conversation.',
    ended: 'Cette conversation est terminée.'
  };

  function receive(f) {
    switch (f.type) {
      case 'welcome':
        attempt = 0;
        if (!f.resumed && shown > 0) {
          /* Another conversation (the last one expired or ended): forget the old lines. */
          log.replaceChildren();
          greet();
          for (const item of outbox) log.append(pendingLine(item));
          shown = 0;
          eventLog.length = 0;
        }
        session = f.session;
        if (leader) store.setItem('dialogd.session', session);
        replayTo = typeof f.last_seq === 'number' ? f.last_seq : 0;
        if (shown < replayTo) log.setAttribute('aria-busy', 'true');
        setStatus('');
        if (leader) {
          ready = true;
          outbox.forEach(transmit);
        }
        break;
      case 'event':
        onEvent(f);
        break;
      case 'ack':
        acknowledged(f.id);
        break;
      case 'error':
        onError(f);
        break;
    }
  }

  function onEvent(f) {
    if (typeof f.seq !== 'number' || f.seq <= shown) return;
    shown = f.seq;
    if (leader && channel) eventLog.push(f);
    const live = f.seq > replayTo;
    if (f.kind === 'message') {
      addLine(bubble(f.from, f.text || ''));
      showQuickReplies(Array.isArray(f.quick_replies) ? f.quick_replies : []);
      if (f.from === 'person') setStatus('');
      if (live && f.from !== 'visitor') markUnread(f.from);
    } else if (f.kind === 'handoff') {
      addLine(el('p', { class: 'note', text: notes.handoff }));
    } else if (f.kind === 'state' && notes[f.state]) {
      addLine(el('p', { class: 'note', text: notes[f.state] }));
    } else if (f.kind === 'typing' && live) {
      setStatus(f.state === 'start' ? 'Un conseiller écrit…' : '');
    }
    if (f.seq >= replayTo) log.removeAttribute('aria-busy');
    ackSoon();
  }

  function onError(f) {
    if (f.code === 'rate_limited') {
      setStatus(f.message || 'Trop de messages : le vôtre partira dans un instant.');
      resendSoon(15000);
    } else if (f.code === 'store_failed') {
      resendSoon(3000);
    } else if (f.code === 'ended') {
      /* Ended in another tab, or no longer kept: this device forgets it too. */
      wipe();
    } else if (f.code !== 'identity_refused' && f.message) {
      setStatus(f.message);
    }
  }

  /* « Terminer et effacer », here or in another tab. */
  function wipe() {
    clearTimeout(retryTimer);
    clearTimeout(resendTimer);
    for (const k of KEYS) store.removeItem(k);
    outbox = [];
    eventLog.length = 0;
    session = null;
    shown = 0;
    replayTo = 0;
    started = false;
    drop();
    log.replaceChildren();
    greet();
    showQuickReplies([]);
    setStatus('');
  }

  /* ---- tabs sharing one conversation ([chat] persistence = browser) ---- */

  const channel = sharedByTabs && window.BroadcastChannel && navigator.locks ? new BroadcastChannel('dialogd-chat') : null;
  /* The tab holding the lock holds the socket; the others go through it. */
  let leader = channel === null;

  function relay(message) {
    if (channel && leader) channel.postMessage(message);
  }

  if (channel) {
    channel.onmessage = (e) => {
      const m = e.data || {};
      if (m.t === 'wipe') {
        wipe();
      } else if (leader) {
        if (m.t === 'send' && m.item) enqueue(m.item);
        if (m.t === 'sync') channel.postMessage({ t: 'history', last: shown, frames: eventLog.filter((f) => f.seq > m.shown) });
      } else if (m.t === 'frame') {
        receive(m.f);
      } else if (m.t === 'history') {
        if (m.last > replayTo) replayTo = m.last;
        if (shown < replayTo) log.setAttribute('aria-busy', 'true');
        m.frames.forEach(onEvent);
        log.removeAttribute('aria-busy');
      } else if (m.t === 'status') {
        status.textContent = m.text;
      } else if (m.t === 'leader') {
        /* A new tab holds the socket: it gets what this one still has to send. */
        for (const item of outbox) channel.postMessage({ t: 'send', item });
        if (started) channel.postMessage({ t: 'sync', shown });
      }
    };
    navigator.locks.request('dialogd-chat-socket', () => new Promise(() => {
      leader = true;
      const stored = readOutbox();
      outbox = stored.concat(outbox.filter((m) => !stored.some((o) => o.id === m.id)));
      saveOutbox();
      channel.postMessage({ t: 'leader' });
      if (started) connect();
    }));
  }

  /* ---- the visitor's hands ---- */

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (new TextEncoder().encode(text).length > config.maxText) {
      setStatus('Votre message est trop long (environ ' + config.maxText + ' caractères au plus) : merci de le ' +
        'raccourcir ou de l’envoyer en plusieurs fois.');
      return;
    }
    input.value = '';
    send('message', text);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      closePanel();
    }
  });
  closeButton.addEventListener('click', closePanel);
  transcriptButton.addEventListener('click', () => send('transcript'));
  endButton.addEventListener('click', () => {
    if (!window.confirm('Terminer cette conversation et l’effacer de cet appareil ?')) return;
    if (ready) ws.send(JSON.stringify({ type: 'end' }));
    if (channel) channel.postMessage({ t: 'wipe' });
    closePanel();
    wipe();
  });

  greet();
  for (const item of outbox) log.append(pendingLine(item));
  showQuickReplies([]);

  w.toggle = () => (panel.hidden ? openPanel(true) : closePanel());
  w.start = (byClick) => {
    if (byClick || store.getItem('dialogd.open') === '1') openPanel(byClick);
    else connect();
  };
})();
