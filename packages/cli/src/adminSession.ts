import { Admin } from '@brook/client';
import type { GlobalOptions } from './connection';

/** Runs `work` with an Admin for the chosen controller and cluster, closing it afterwards. */
export async function withAdmin<T>(options: GlobalOptions, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ controllerUrl: options.controller, cluster: options.cluster });
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}
