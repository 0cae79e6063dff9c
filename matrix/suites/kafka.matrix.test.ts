import { defineMatrixSuite } from '../define-matrix-suite.ts';

defineMatrixSuite('kafka');
