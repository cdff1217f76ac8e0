// Queues the parent Order of every changed order product (see QBSyncQueueHandler.enqueueParents): a line edit that
// leaves the Order itself unchanged must still reach the QuickBooks sales order.
trigger QBSyncOrderItemTrigger on OrderItem(after insert, after update, after delete) {
    QBSyncQueueHandler.enqueueParents('Order', 'OrderId', Trigger.isDelete ? Trigger.old : Trigger.new);
}
