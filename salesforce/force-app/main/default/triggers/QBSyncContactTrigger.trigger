// Queues every Contact change for qbsf (see QBSyncQueueHandler); logic lives in the handler, one trigger per object.
trigger QBSyncContactTrigger on Contact(after insert, after update, after delete, after undelete) {
    QBSyncQueueHandler.enqueue(
        'Contact',
        Trigger.isDelete ? Trigger.old : Trigger.new,
        Trigger.oldMap,
        Trigger.operationType
    );
}
