import type { ApprovalRecord, ApprovalsRepo } from '../db/approvals-repo.js';
import type { ApprovalLinks } from '../shared/approval-links.js';

/** What an approval step asks of the world: its links (and its row), and the row closed at its end. */
export function createApprovalActivities(approvals: ApprovalsRepo, links: ApprovalLinks) {
  return {
    /** Records the approval and mints its links; the same links again when retried. */
    async openApproval(record: ApprovalRecord): Promise<{ approveUrl: string; rejectUrl: string }> {
      const minted = await links.mint({
        tenantId: record.tenantId,
        approvalId: record.id,
        expiresAt: record.expiresAt,
      });
      await approvals.insert(record);
      return minted;
    },
    async closeApproval(req: {
      id: string;
      decided: { decision: 'approved' | 'rejected'; at: string } | null;
    }): Promise<void> {
      await approvals.close(req.id, req.decided);
    },
  };
}

export type ApprovalActivities = ReturnType<typeof createApprovalActivities>;
