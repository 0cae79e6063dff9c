import { defineMatrixSuite } from '../define-matrix-suite.ts';

defineMatrixSuite('rest_api');
