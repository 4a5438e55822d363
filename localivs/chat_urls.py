from django.urls import re_path

from localivs import control

# The IVS Chat control plane: POST /<Operation>, as boto3 sends it with endpoint_url=<site>/ivschat.
urlpatterns = [re_path(r"^(?P<name>[A-Za-z]{1,64})$", control.chat_operation, name="localivs-chat-control")]
