// Queues the parent Quote of every changed quote line item (see QBSyncQueueHandler.enqueueParents): a line edit that
// leaves the Quote itself unchanged must still reach the QuickBooks estimate.
trigger QBSyncQuoteLineItemTrigger on QuoteLineItem(after insert, after update, after delete) {
    QBSyncQueueHandler.enqueueParents('Quote', 'QuoteId', Trigger.isDelete ? Trigger.old : Trigger.new);
}
