// After a sign-in at the identity provider: keep the token where a pasted one is kept, then open the console.
import { token } from './api.js';

const data = JSON.parse(document.getElementById('mz-signed-in').textContent);
token.set(data.token);
// Replaces the callback's address, so its one-time code leaves the history.
location.replace('/ui');
