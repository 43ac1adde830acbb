/**
 * The same /api/v1 contract (contract.ts) through the Lambda handler, invoked with API Gateway HTTP
 * API payload 2.0 events, over SQLite (api-lambda-dynamodb.test.ts: over DynamoDB); plus what
 * differs behind API Gateway (lambda-extras.ts).
 */
import { apiContract } from './contract.js';
import { hasVelib } from './fixture.js';
import { lambdaExtras } from './lambda-extras.js';
import { lambdaRunner } from './runners.js';

if (!hasVelib) console.warn('skipping API Lambda tests: ../shared/data/velib-2025-10 is absent');

apiContract(lambdaRunner, lambdaExtras);
