// Flips a SwitchServer: node flip.mjs <base-url> down|up. Prints the answer; exits 1 unless 200.
const [base, state] = process.argv.slice(2);
const res = await fetch(`${base}/switch`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ down: state === 'down' }),
});
console.log(`switch ${state}: ${res.status} ${await res.text()}`);
// Exit at once: an idle keep-alive socket must not delay the end of the fault's command.
process.exit(res.status === 200 ? 0 : 1);
