"""Python twin of shield.launch.xml: shield an existing controller on a dVRK arm.

    ros2 launch rshield shield.launch.py arm:=PSM1 profile:=psm1
    ros2 launch ./launch/shield.launch.py arm:=PSM1 profile:=psm1
    ros2 launch ./launch/shield.launch.py profile:=psm1 broker:=mqtt://localhost:1883   (online)
"""
import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.conditions import IfCondition, LaunchConfigurationEquals, LaunchConfigurationNotEquals
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..'))


def shield_cmd(online):
    cmd = ['node', os.path.join(ROOT, 'bin', 'rshield.js'), 'run', '--transport', 'ros2',
           '--ros-args', '-r', '__node:=rshield',
           '--params-file', LaunchConfiguration('params_file'),
           '-p', ['profile:=', LaunchConfiguration('profile')],
           '-p', ['model_dir:=', LaunchConfiguration('model_dir')],
           '-p', ['provider:=', LaunchConfiguration('provider')]]
    # An empty -p value does not parse (rcl): the broker parameter is passed only when set.
    return cmd + (['-p', ['broker:=', LaunchConfiguration('broker')]] if online else [])


def generate_launch_description():
    arm = LaunchConfiguration('arm')
    return LaunchDescription([
        DeclareLaunchArgument('arm', default_value='PSM1', description='dVRK arm name (topic prefix)'),
        DeclareLaunchArgument('profile', default_value='psm1', description='robot profile: psm1, psm2 or a YAML path'),
        DeclareLaunchArgument('model_dir', default_value=os.path.join(ROOT, 'models', 'dvrk-reacher')),
        DeclareLaunchArgument('params_file', default_value=os.path.join(ROOT, 'hardware', 'dvrk', 'shield.params.yaml')),
        DeclareLaunchArgument('provider', default_value='cpu', description='ONNX Runtime execution provider: cpu or cuda'),
        DeclareLaunchArgument('broker', default_value='', description='MQTT broker of the online loop (mqtt://host:1883); empty: offline'),
        DeclareLaunchArgument('with_controller', default_value='false'),
        DeclareLaunchArgument('controller_pkg', default_value='dvrk_python'),
        DeclareLaunchArgument('controller_exec', default_value='controller'),
        ExecuteProcess(cmd=shield_cmd(False), cwd=ROOT, name='rshield', output='screen', sigterm_timeout='5',
                       condition=LaunchConfigurationEquals('broker', '')),
        ExecuteProcess(cmd=shield_cmd(True), cwd=ROOT, name='rshield', output='screen', sigterm_timeout='5',
                       condition=LaunchConfigurationNotEquals('broker', '')),
        Node(
            package=LaunchConfiguration('controller_pkg'), executable=LaunchConfiguration('controller_exec'),
            name='controller', output='screen', condition=IfCondition(LaunchConfiguration('with_controller')),
            remappings=[(['/', arm, '/servo_cp'], ['/rshield/', arm, '/servo_cp'])]),
    ])
