# Celery configuration for the inventory workers.
broker_url = 'amqp://inventory:M0sa1c*2024@rabbit.lark.internal:5672//'
result_backend = 'redis://:Zephyr9530!fjord@redis01.lark.internal:6379/1'

task_serializer = 'json'
result_serializer = 'json'
accept_content = ['json']
timezone = 'Europe/Oslo'
enable_utc = True

task_routes = {
    'inventory.tasks.sync_stock': {'queue': 'stock'},
    'inventory.tasks.send_report': {'queue': 'mail'},
}
