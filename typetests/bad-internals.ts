// Must NOT compile: internals are not in the public types.
import { NetworkStatisticsClient } from '../dist/index.js';

const client = new NetworkStatisticsClient({});
void client.pending;
