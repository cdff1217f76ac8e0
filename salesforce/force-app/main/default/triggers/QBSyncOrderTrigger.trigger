// Queues every Order change for qbsf (see QBSyncQueueHandler); logic lives in the handler, one trigger per object.
trigger QBSyncOrderTrigger on Order(after insert, after update, after delete, after undelete) {
    QBSyncQueueHandler.enqueue(
        'Order',
        Trigger.isDelete ? Trigger.old : Trigger.new,
        Trigger.oldMap,
        Trigger.operationType
    );
}
