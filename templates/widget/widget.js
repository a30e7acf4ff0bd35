/* dialogd — the chat widget's loader: the one script a host page carries
 *   <script src="https://HOST/widget.js" defer></script>
 * It draws only the launcher, in a shadow root of its own (host styles cannot reach it),
 * and loads the chat's code (widget-chat.js) on the first click. Nothing is written to
 * the visitor's device before then. dialogd writes its settings in place of the string
 * below when it serves this file. No inline script or style: it works under a strict CSP. */
(function (config) {
  'use strict';
  if (window.dialogdWidget || typeof config !== 'object') return;
  var script = document.currentScript;
  var base = new URL('.', script.src).href;
  var w = window.dialogdWidget = {
    config: config, base: base, identity: script.getAttribute('data-identity') || null
  };

  function storedConversation() {
    try {
      var store = config.persistence === 'browser' ? window.localStorage : window.sessionStorage;
      return store.getItem('dialogd.open') === '1';
    } catch (e) {
      return false; /* storage refused (private mode, a policy): nothing to resume */
    }
  }

  function build() {
    var host = document.createElement('div');
    host.setAttribute('data-dialogd-widget', '');
    var root = host.attachShadow({ mode: 'open' });
    var style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = base + 'widget.css?v=' + config.version;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'launcher';
    button.setAttribute('aria-expanded', 'false');
    var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
    svg.appendChild(path);
    var label = document.createElement('span');
    label.textContent = 'Dialoguer avec OCAPIAT';
    button.appendChild(svg);
    button.appendChild(label);
    /* Shown once its style is there: never a bare button at the page's foot. */
    host.hidden = true;
    style.addEventListener('load', function () { host.hidden = false; });
    style.addEventListener('error', function () { host.hidden = false; });
    root.appendChild(style);
    root.appendChild(button);
    document.body.appendChild(host);
    w.host = host;
    w.root = root;
    w.launcher = button;
    w.launcherLabel = label;
    button.addEventListener('click', function () {
      if (w.toggle) w.toggle();
      else load(true);
    });
    if (storedConversation()) load(false);
  }

  var loading = false;
  function load(focus) {
    if (loading) return;
    loading = true;
    w.launcher.setAttribute('aria-busy', 'true');
    var chat = document.createElement('script');
    chat.src = base + 'widget-chat.js?v=' + config.version;
    chat.async = true;
    chat.addEventListener('load', function () {
      w.launcher.removeAttribute('aria-busy');
      if (w.start) w.start(focus);
    });
    chat.addEventListener('error', function () {
      loading = false;
      w.launcher.removeAttribute('aria-busy');
      w.launcherLabel.textContent = 'Dialoguer avec OCAPIAT (indisponible, réessayez plus tard)';
    });
    document.head.appendChild(chat);
  }

  if (document.body) build();
  else document.addEventListener('DOMContentLoaded', build);
})("@DIALOGD_CONFIG@");
