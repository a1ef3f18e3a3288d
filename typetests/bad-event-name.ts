// Must NOT compile: a misspelt event name.
import { NetworkStatisticsClient } from '../dist/index.js';

const client = new NetworkStatisticsClient({});
client.on('addded', (s: unknown) => void s);
