import { Router, type Request } from 'express';
import {
  CommitOffsetsRequest,
  GroupHeartbeatRequest,
  GroupPath,
  parseInput,
  type GroupDescription,
  type GroupDescriptionWithLag,
  ResetOffsetsRequest,
} from '@brook/types';
import { FORWARDED_HEADER } from '../../network/BrokerPeers';
import type { GroupAdmin } from '../../group/GroupAdmin';
import type { GroupCoordinator } from '../../group/GroupCoordinator';
import type { GroupService } from '../../group/GroupService';

const forwarded = (req: Request) => req.headers[FORWARDED_HEADER] !== undefined;
const path = (group: string, rest: string) => `/groups/${encodeURIComponent(group)}${rest}`;

/**
 * Consumer groups: the KIP-848 heartbeat and offset commits (answered by the group's coordinator, wherever
 * the request arrives), and the admin view with lag and resets.
 */
export function groupRoutes(groups: GroupService, admin: GroupAdmin): Router {
  const router = Router();

  router.post('/groups/:group/heartbeat', async (req, res) => {
    const { group } = parseInput(GroupPath, req.params);
    const body = parseInput(GroupHeartbeatRequest, req.body);
    res.json(await groups.route(group, forwarded(req), (c) => c.heartbeat(group, body), (peer, headers) => peer.post(path(group, '/heartbeat'), body, { headers })));
  });

  router.post('/groups/:group/offsets', async (req, res) => {
    const { group } = parseInput(GroupPath, req.params);
    const body = parseInput(CommitOffsetsRequest, req.body);
    await groups.route(group, forwarded(req), (c) => c.commitOffsets(group, body), (peer, headers) => peer.post(path(group, '/offsets'), body, { headers }));
    res.json({ committed: body.offsets.length });
  });

  router.get('/groups/:group/offsets', async (req, res) => {
    const { group } = parseInput(GroupPath, req.params);
    type Offsets = ReturnType<GroupCoordinator['fetchOffsets']>;
    const offsets = await groups.route(group, forwarded(req), (c) => c.fetchOffsets(group), async (peer, headers) => (await peer.get<{ offsets: Offsets }>(path(group, '/offsets'), { headers })).offsets);
    res.json({ offsets });
  });

  /** This broker's groups only when forwarded; otherwise every broker's, merged. */
  router.get('/consumer-groups', async (req, res) => {
    const local = (await groups.coordinator()).listGroups();
    if (forwarded(req)) {
      res.json(local);
      return;
    }
    const all = [...local];
    for (const id of groups.brokerIds()) {
      if (id === groups.brokerId) continue;
      all.push(...(await groups.peer(id).get<typeof local>('/consumer-groups', { headers: { [FORWARDED_HEADER]: '1' } }).catch(() => [])));
    }
    res.json(all.sort((a, b) => a.groupId.localeCompare(b.groupId)));
  });

  router.get('/consumer-groups/:group', async (req, res) => {
    const { group } = parseInput(GroupPath, req.params);
    const d = await groups.route(group, forwarded(req), (c) => c.describeGroup(group), (peer, headers) => peer.get<GroupDescription>(`/consumer-groups/${encodeURIComponent(group)}`, { headers }));
    if (forwarded(req)) {
      res.json(d);
      return;
    }
    // A partition pending revocation is still its member's: it counts as assigned.
    const withLag: GroupDescriptionWithLag = { ...d, ...(await admin.lag(d.offsets, d.members.flatMap((m) => [...m.assignment, ...m.partitionsPendingRevocation]))) };
    res.json(withLag);
  });

  /** Runs on the coordinator, which refuses a group with members before looking at anything else (as Kafka does). */
  router.post('/consumer-groups/:group/reset-offsets', async (req, res) => {
    const { group } = parseInput(GroupPath, req.params);
    const body = parseInput(ResetOffsetsRequest, req.body);
    type Reset = { groupId: string; offsets: Array<{ topic: string; partition: number; offset: number }> };
    const reset = async (c: GroupCoordinator): Promise<Reset> => {
      const offsets = await admin.resetTargets(body, c.resettableTopics(group));
      await c.resetOffsets(group, offsets);
      return { groupId: group, offsets };
    };
    res.json(await groups.route(group, forwarded(req), reset, (peer, headers) => peer.post<Reset>(req.path, body, { headers })));
  });

  router.delete('/consumer-groups/:group', async (req, res) => {
    const { group } = parseInput(GroupPath, req.params);
    await groups.route(group, forwarded(req), (c) => c.deleteGroup(group), (peer, headers) => peer.delete(`/consumer-groups/${encodeURIComponent(group)}`, { headers }));
    res.json({ groupId: group, deleted: true });
  });

  return router;
}
