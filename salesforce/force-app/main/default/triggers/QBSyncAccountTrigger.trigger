// Queues every Account change for qbsf (see QBSyncQueueHandler); logic lives in the handler, one trigger per object.
trigger QBSyncAccountTrigger on Account(after insert, after update, after delete, after undelete) {
    QBSyncQueueHandler.enqueue(
        'Account',
        Trigger.isDelete ? Trigger.old : Trigger.new,
        Trigger.oldMap,
        Trigger.operationType
    );
}
