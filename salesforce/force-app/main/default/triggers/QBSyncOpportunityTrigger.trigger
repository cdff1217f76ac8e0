// Queues every Opportunity change for qbsf (see QBSyncQueueHandler); logic lives in the handler, one trigger per object.
trigger QBSyncOpportunityTrigger on Opportunity(after insert, after update, after delete, after undelete) {
    QBSyncQueueHandler.enqueue(
        'Opportunity',
        Trigger.isDelete ? Trigger.old : Trigger.new,
        Trigger.oldMap,
        Trigger.operationType
    );
}
