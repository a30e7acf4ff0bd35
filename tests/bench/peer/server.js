// The chat benchmark's peer (tests/bench/chat-bench.sh): the server a small team would
// write instead of dialogd, a Node `ws` WebSocket server that answers with nlp.js. It
// speaks the part of dialogd.chat.v1 (README "Chat protocol") that tests/bench/bench_chat
// uses: the upgrade on /chat with the subprotocol and an allowed Origin, hello -> welcome,
// message -> ack, the visitor's event, the bot's event with the FAQ answer of the intent
// nlp.js finds (or a hand-over sentence). Nothing is stored: it is the lighter server.
//
// Usage: node server.js --port N --origin ORIGIN --faq FAQ_DIR
//                       [--intents spec/intents.tsv] --train TSV [--train TSV ...]
// --intents: the spec's table (id, kind, faq_question, ...): each FAQ question is a
// training sentence of its id. --train: text<TAB>intent<TAB>... tables with a header line.
// Prints "peer: listening on 127.0.0.1:PORT" once trained and listening.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { WebSocketServer } = require('ws');
const { dockStart } = require('@nlpjs/basic');

const PROTOCOL = 'dialogd.chat.v1';
const HANDOFF = 'Je transmets votre question à un conseiller, qui vous répondra dès que possible.';
const SMALL_TALK = 'Je suis l’assistant d’OCAPIAT : posez-moi votre question sur Mon Espace.';

function parseArgs(argv) {
  const args = { port: 0, origin: null, faq: null, intents: null, train: [] };
  for (let i = 0; i < argv.length; i++) {
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--port': args.port = Number(next()); break;
      case '--origin': args.origin = next(); break;
      case '--faq': args.faq = next(); break;
      case '--intents': args.intents = next(); break;
      case '--train': args.train.push(next()); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!args.faq || args.train.length === 0) throw new Error('--faq and at least one --train are needed');
  return args;
}

// Rows of a TSV after its header line.
function readTable(file) {
  return fs.readFileSync(file, 'utf8').split('\n').slice(1)
    .filter((line) => line.trim() !== '').map((line) => line.split('\t'));
}

// id -> the answer's text: the body of each faq-data/<id>.faq after its header (both
// audiences' variants, as dialogd shows them to a writer who did not say who they are).
function loadAnswers(dir) {
  const answers = new Map();
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.faq')) continue;
    const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n')
      .filter((line) => !line.startsWith('#'));
    const blank = lines.findIndex((line) => line.trim() === '');
    const header = lines.slice(0, blank < 0 ? lines.length : blank);
    const idLine = header.find((line) => line.startsWith('id:'));
    const id = idLine ? idLine.slice(3).trim() : name.slice(0, -4);
    const body = blank < 0 ? '' : lines.slice(blank + 1).join('\n').trim()
      .replace(/^=== entreprise ===$/m, 'Vous êtes une entreprise (MonCompte) :')
      .replace(/^=== organisme ===$/m, 'Vous êtes un organisme de formation (PartNet) :');
    answers.set(id, body);
  }
  return answers;
}

async function train(args) {
  const dock = await dockStart({
    settings: { nlp: { autoSave: false, autoLoad: false, languages: ['fr'], forceNER: false, nlu: { log: false } } },
    use: ['Basic', 'LangFr'],
  });
  const nlp = dock.get('nlp');
  nlp.settings.autoSave = false;
  let documents = 0;
  if (args.intents) {
    for (const [id, , question] of readTable(args.intents)) {
      if (id !== 'unknown' && question) { nlp.addDocument('fr', question, id); documents++; }
    }
  }
  for (const file of args.train) {
    for (const [text, intent] of readTable(file)) {
      if (text && intent && intent !== 'unknown') {
        nlp.addDocument('fr', text.replace(/\\n/g, '\n'), intent);
        documents++;
      }
    }
  }
  const t0 = process.hrtime.bigint();
  await nlp.train();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stderr.write(`peer: trained on ${documents} sentences in ${ms.toFixed(0)} ms\n`);
  return nlp;
}

function answerFor(answers, result) {
  const intent = result && result.intent && result.intent !== 'None' ? result.intent : null;
  if (intent === null || intent === 'human_handoff') return HANDOFF;
  return answers.get(intent) || SMALL_TALK;
}

// One connection: its own sequence of events, as dialogd numbers a conversation's.
function serve(ws, nlp, answers) {
  let welcomed = false;
  let seq = 0;
  const send = (obj) => ws.send(JSON.stringify(obj));
  const error = (code, message) => send({ type: 'error', code, message });
  ws.on('message', async (data, isBinary) => {
    if (isBinary) { ws.close(1003); return; }
    let frame;
    try {
      frame = JSON.parse(data.toString('utf8'));
    } catch (e) {
      error('invalid_json', 'Ce message n’a pas pu être lu.');
      return;
    }
    if (frame === null || typeof frame !== 'object') { error('invalid_json', 'Ce message n’a pas pu être lu.'); return; }
    if (frame.type === 'hello') {
      if (welcomed) { error('unexpected', 'Cette conversation est déjà ouverte.'); return; }
      welcomed = true;
      const session = crypto.randomBytes(32).toString('base64url');
      send({ type: 'welcome', session, resumed: false, last_seq: 0, identified: false });
      return;
    }
    if (!welcomed) { error('hello_first', 'La conversation n’est pas encore ouverte.'); return; }
    if (frame.type !== 'message') { error('unknown_type', 'Ce message n’est pas compris.'); return; }
    if (typeof frame.id !== 'string' || typeof frame.text !== 'string' || frame.text.trim() === '') {
      error('invalid_field', 'Ce message est incomplet.');
      return;
    }
    send({ type: 'ack', id: frame.id });
    send({ type: 'event', seq: ++seq, kind: 'message', from: 'visitor', text: frame.text, quick_replies: [] });
    const result = await nlp.process('fr', frame.text);
    if (ws.readyState !== ws.OPEN) return;
    send({ type: 'event', seq: ++seq, kind: 'message', from: 'bot', text: answerFor(answers, result), quick_replies: [] });
  });
}

(async () => {
  const args = parseArgs(process.argv.slice(2));
  const answers = loadAnswers(args.faq);
  const nlp = await train(args);
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: args.port,
    path: '/chat',
    perMessageDeflate: false,
    maxPayload: 16384,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
    verifyClient: (info) => args.origin === null || (info.origin || '').toLowerCase() === args.origin.toLowerCase(),
  });
  wss.on('connection', (ws) => {
    if (ws.protocol !== PROTOCOL) { ws.close(1002); return; }
    serve(ws, nlp, answers);
  });
  wss.on('listening', () => {
    process.stdout.write(`peer: listening on 127.0.0.1:${wss.address().port} (${answers.size} answers)\n`);
  });
  const stop = () => { wss.close(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
})().catch((e) => {
  process.stderr.write(`peer: ${e.stack || e}\n`);
  process.exit(1);
});
