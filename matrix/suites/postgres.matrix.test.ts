import { defineMatrixSuite } from '../define-matrix-suite.ts';

defineMatrixSuite('postgres');
