// Must NOT compile: the payload of 'added' is a Stream, which has no `bogus` field.
import { NetworkStatisticsClient } from '../dist/index.js';

const client = new NetworkStatisticsClient({});
client.on('added', (s) => void s.bogus);
