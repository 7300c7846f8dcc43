import { writeFileSync } from 'node:fs';
import { startTestPostgres } from './pg.js';
const pg = await startTestPostgres();
writeFileSync('/tmp/pgurl', pg.url);
process.on('SIGTERM', async () => { await pg.stop(); process.exit(0); });
setInterval(() => {}, 1000);
