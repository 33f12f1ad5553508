// The notes page, traced with Roentgen's browser SDK (sdk/browser, served as
// /xray.js): each action (sign in, add a note, sign out) is a segment named
// after the application, annotated with the signed-in user's email, whose
// GraphQL call is a subsegment; the API gets X-Amzn-Trace-Id with that
// subsegment as Parent, so its segments, the function's and the datastore's
// join the same trace. The segments go to Roentgen signed with short-lived
// write-only keys that the API's backend hands out (GET /keys).
import { XRay } from '/xray.js';
import config from '/config.js';

const xray = new XRay({
  name: 'Web-Application',
  endpoint: config.roentgen,
  region: 'us-east-1',
  credentials: () => fetch(`${config.api}/keys`).then((r) => {
    if (!r.ok) throw new Error(`keys: ${r.status}`);
    return r.json();
  }),
  propagateTo: [config.api],
  // A demo records every action; follow the server's rules in production.
  sampling: config.sampling,
  onError: (e) => console.warn('x-ray:', e.kind, e.message),
});
window.xray = xray; // for the end-to-end test: xray.flush(), xray.stats

const $ = (id) => document.getElementById(id);
let email = sessionStorage.getItem('email');

function show(notes) {
  $('signin').hidden = Boolean(email);
  $('notes').hidden = !email;
  $('who').textContent = email ?? '';
  if (notes) {
    $('list').replaceChildren(...notes.map((n) => {
      const li = document.createElement('li');
      li.textContent = n.text;
      li.dataset.id = n.id;
      return li;
    }));
  }
}

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

// One user action as one trace: a segment annotated with the email, the API
// call inside it.
async function action(name, user, query, variables) {
  const segment = xray.beginSegment('Web-Application', { user, annotations: { email: user, action: name } });
  $('trace').textContent = segment.trace_id;
  status('Working…');
  try {
    const { data, errors } = await xray.graphql(`${config.api}/graphql`, { query, variables });
    if (errors?.length) throw new Error(errors.map((e) => e.message).join('; '));
    return data;
  } catch (err) {
    segment.addError(err);
    throw err;
  } finally {
    xray.endSegment(segment);
    window.lastTrace = segment.trace_id;
  }
}

$('signin').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const who = $('email').value.trim();
  try {
    const data = await action('signIn', who,
      'mutation SignIn($email: String!) { signIn(email: $email) { email notes { id text createdAt } } }', { email: who });
    email = data.signIn.email;
    sessionStorage.setItem('email', email);
    show(data.signIn.notes);
    status(`Signed in as ${email}.`);
  } catch (err) {
    status(`Could not sign in: ${err.message}`, true);
  }
});

$('add').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('note').value;
  try {
    const data = await action('addNote', email,
      'mutation AddNote($email: String!, $text: String!) { addNote(email: $email, text: $text) { id text createdAt } }',
      { email, text });
    const li = document.createElement('li');
    li.textContent = data.addNote.text;
    li.dataset.id = data.addNote.id;
    $('list').append(li);
    $('note').value = '';
    status('Note added.');
  } catch (err) {
    status(`Could not add the note: ${err.message}`, true);
  }
});

$('signout').addEventListener('click', async () => {
  try {
    await action('signOut', email, 'mutation SignOut($email: String!) { signOut(email: $email) }', { email });
  } catch (err) {
    status(`Sign out failed on the server: ${err.message}`, true);
  }
  email = null;
  sessionStorage.removeItem('email');
  $('list').replaceChildren();
  show();
  if (!$('status').classList.contains('error')) status('Signed out.');
});

show();
