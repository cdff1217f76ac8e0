// Queues every Product2 change for qbsf (see QBSyncQueueHandler); logic lives in the handler, one trigger per object.
trigger QBSyncProduct2Trigger on Product2(after insert, after update, after delete, after undelete) {
    QBSyncQueueHandler.enqueue(
        'Product2',
        Trigger.isDelete ? Trigger.old : Trigger.new,
        Trigger.oldMap,
        Trigger.operationType
    );
}
