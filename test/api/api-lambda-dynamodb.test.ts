/**
 * The /api/v1 contract (contract.ts) as deployed on AWS: the Lambda handler, invoked with API
 * Gateway HTTP API payload 2.0 events, over the DynamoDB store (dynalite through the real AWS SDK).
 */
import { openStore, type Store } from '../../src/storage/index.js';
import { dynamoUrl, startDynalite, type LocalDynamo } from '../storage/dynamodb-fixture.js';
import { apiContract, type StoreBackend } from './contract.js';
import { hasVelib } from './fixture.js';
import { lambdaExtras } from './lambda-extras.js';
import { lambdaRunner } from './runners.js';

if (!hasVelib) console.warn('skipping API Lambda + DynamoDB tests: ../shared/data/velib-2025-10 is absent');

let dynamo: LocalDynamo | null = null;
const dynamoBackend: StoreBackend = {
  name: 'DynamoDB (dynalite)',
  async open(): Promise<Store> {
    dynamo = await startDynalite();
    return openStore(dynamoUrl(dynamo.endpoint, 'api'));
  },
  close: async () => dynamo?.close(),
};

apiContract(lambdaRunner, lambdaExtras, dynamoBackend);
