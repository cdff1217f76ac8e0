// Queues the parent Opportunity of every changed line (see QBSyncQueueHandler.enqueueParents): a line edit that
// leaves the Opportunity itself unchanged must still reach the QuickBooks invoice.
trigger QBSyncOpportunityLineItemTrigger on OpportunityLineItem(after insert, after update, after delete) {
    QBSyncQueueHandler.enqueueParents(Trigger.isDelete ? Trigger.old : Trigger.new);
}
