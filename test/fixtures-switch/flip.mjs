// Flips a SwitchServer: node flip.mjs <base-url> down|up [hold]. Prints the answer; exits 1 unless
// 200. With `hold` it stays running after the flip (an inject command that never returns).
const [base, state, hold] = process.argv.slice(2);
const res = await fetch(`${base}/switch`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ down: state === 'down' }),
});
console.log(`switch ${state}: ${res.status} ${await res.text()} (pid ${process.pid})`);
if (hold === 'hold' && res.status === 200) setInterval(() => undefined, 1000);
// Otherwise exit at once: an idle keep-alive socket must not delay the end of the fault's command.
else process.exit(res.status === 200 ? 0 : 1);
