// Queues every Quote change for qbsf (see QBSyncQueueHandler); logic lives in the handler, one trigger per object.
trigger QBSyncQuoteTrigger on Quote(after insert, after update, after delete, after undelete) {
    QBSyncQueueHandler.enqueue(
        'Quote',
        Trigger.isDelete ? Trigger.old : Trigger.new,
        Trigger.oldMap,
        Trigger.operationType
    );
}
