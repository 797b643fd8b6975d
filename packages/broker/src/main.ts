#!/usr/bin/env node
import { runService } from '@brook/runtime';
import { Broker } from './Broker';
import { brokerConfigSpec } from './config';

void runService('broker', brokerConfigSpec, (config, logger) => Broker.start(config, logger));
