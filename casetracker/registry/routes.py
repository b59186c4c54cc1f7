from casetracker.registry.controllers import RegistryController

ROUTE_HANDLERS = [RegistryController]
