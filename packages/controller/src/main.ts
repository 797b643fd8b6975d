#!/usr/bin/env node
import { runService } from '@brook/runtime';
import { controllerConfigSpec } from './config';
import { Controller } from './Controller';

void runService('controller', controllerConfigSpec, async (config, logger) => {
  const controller = await Controller.start(config, logger);
  for (const line of controller.listenerLines()) process.stdout.write(`${line}\n`);
  return controller;
});
